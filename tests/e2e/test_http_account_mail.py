"""Verification and password reset end to end: the app mails a real SMTP server started by
the tests, and the tokens are read from the delivered mail."""

from __future__ import annotations

import asyncio
import re
import statistics
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from adapters.sqlalchemy.migrations import AlembicMigrator
from entrypoints.http.app import create_app
from tests.e2e.cli_support import keel_env, keel_server, sqlite_url_for
from tests.e2e.http_support import (
    PASSWORD,
    access_token,
    assert_envelope,
    bearer,
    login,
    make_settings,
    register,
    serving,
)
from tests.support.smtp import Received, SmtpServer

BASE = "https://app.example.com"
NEW_PASSWORD = "a long and quiet river"
LINK = re.compile(re.escape(BASE) + r"/(verify-email|reset-password)\?token=([A-Za-z0-9_-]+)")


def mail_settings(url: str, smtp: SmtpServer, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_tls": "none",
        "public_base_url": BASE,
        "email_from": "Keel <no-reply@example.com>",
    }
    return make_settings(url, **(values | overrides))


@pytest.fixture
async def app(migrated_url: str, smtp_server: SmtpServer) -> FastAPI:
    return create_app(mail_settings(migrated_url, smtp_server))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app) as client:
        yield client


def token_in(received: Received, page: str) -> str:
    """The token of the link in both parts of the mail (they must agree)."""
    found = {m.groups() for m in LINK.finditer(received.part("plain") + received.part("html"))}
    [(kind, token)] = found
    assert kind == page
    return token


async def mails_to(smtp: SmtpServer, address: str, subject: str, count: int = 1) -> list[Received]:
    """The mails sent by the background jobs, which run on this event loop: wait for them
    without blocking it."""
    deadline = time.monotonic() + 10
    while True:
        found = [
            r for r in smtp.received if r.rcpt_tos == [address] and r.message["Subject"] == subject
        ]
        if len(found) >= count or time.monotonic() > deadline:
            await asyncio.sleep(0.3)  # and for any that should not be coming
            found = [
                r
                for r in smtp.received
                if r.rcpt_tos == [address] and r.message["Subject"] == subject
            ]
            assert len(found) == count, [r.message["Subject"] for r in smtp.received]
            return found
        await asyncio.sleep(0.02)


VERIFY_SUBJECT = "Verify your email address for Keel"
RESET_SUBJECT = "Reset your Keel password"


async def me(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    response = await client.get("/api/v1/users/me", headers=bearer(token))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# -- verification ------------------------------------------------------------------------


async def test_registration_mails_a_welcome_and_a_link_that_verifies(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    await register(client)
    token = await access_token(client)
    assert (await me(client, token))["is_verified"] is False
    await mails_to(smtp_server, "ada@example.com", "Welcome to Keel")
    [verification] = await mails_to(smtp_server, "ada@example.com", VERIFY_SUBJECT)
    assert verification.message["From"] == "Keel <no-reply@example.com>"

    verify_token = token_in(verification, "verify-email")
    response = await client.post("/api/v1/auth/verify", json={"token": verify_token})
    assert response.status_code == 204, response.text
    assert (await me(client, token))["is_verified"] is True

    again = await client.post("/api/v1/auth/verify", json={"token": verify_token})
    made_up = await client.post("/api/v1/auth/verify", json={"token": "x" * 43})
    for response in (again, made_up):
        error = assert_envelope(response, 400, "INVALID_TOKEN")
        assert error["message"] == "The token is invalid or has expired"
    assert again.json()["error"]["details"] == made_up.json()["error"]["details"] == {}


async def test_resending_mails_a_new_link_three_times_an_hour(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    await register(client)
    headers = bearer(await access_token(client))
    for _ in range(2):  # the link sent at registration counts as the first
        response = await client.post("/api/v1/auth/verify/resend", headers=headers)
        assert response.status_code == 204, response.text
    links = await mails_to(smtp_server, "ada@example.com", VERIFY_SUBJECT, count=3)
    assert len({token_in(mail, "verify-email") for mail in links}) == 3

    response = await client.post("/api/v1/auth/verify/resend", headers=headers)
    error = assert_envelope(response, 429, "RATE_LIMITED")
    assert 3500 <= int(response.headers["retry-after"]) <= 3601
    assert error["details"]["retry_after"] == int(response.headers["retry-after"])
    assert_envelope(await client.post("/api/v1/auth/verify/resend"), 401, "UNAUTHORIZED")


async def test_a_new_address_must_be_verified_again(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    await register(client)
    token = await access_token(client)
    [first] = await mails_to(smtp_server, "ada@example.com", VERIFY_SUBJECT)
    response = await client.patch(
        "/api/v1/users/me", json={"email": "ada@new.example.com"}, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    assert response.json()["is_verified"] is False
    [second] = await mails_to(smtp_server, "ada@new.example.com", VERIFY_SUBJECT)

    old = await client.post("/api/v1/auth/verify", json={"token": token_in(first, "verify-email")})
    assert_envelope(old, 400, "INVALID_TOKEN")
    new = await client.post("/api/v1/auth/verify", json={"token": token_in(second, "verify-email")})
    assert new.status_code == 204
    assert (await me(client, token))["is_verified"] is True


async def test_login_may_require_a_verified_address(
    migrated_url: str, smtp_server: SmtpServer
) -> None:
    app = create_app(mail_settings(migrated_url, smtp_server, require_verified_email=True))
    async with serving(app) as client:
        await register(client)
        refused = await login(client)
        error = assert_envelope(refused, 403, "FORBIDDEN")
        assert "verify" in error["message"].lower()
        assert_envelope(await login(client, password="not the password"), 401, "UNAUTHORIZED")

        [mail] = await mails_to(smtp_server, "ada@example.com", VERIFY_SUBJECT)
        verified = await client.post(
            "/api/v1/auth/verify", json={"token": token_in(mail, "verify-email")}
        )
        assert verified.status_code == 204
        assert (await login(client)).status_code == 200


# -- password reset ----------------------------------------------------------------------


async def test_a_reset_sets_the_password_and_ends_every_session(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    await register(client)
    old_pair = (await login(client)).json()
    response = await client.post(
        "/api/v1/auth/password-reset/request", json={"email": "Ada@Example.com"}
    )
    assert response.status_code == 202, response.text
    [mail] = await mails_to(smtp_server, "ada@example.com", RESET_SUBJECT)
    reset_token = token_in(mail, "reset-password")

    confirm = {"token": reset_token, "new_password": NEW_PASSWORD}
    response = await client.post("/api/v1/auth/password-reset/confirm", json=confirm)
    assert response.status_code == 204, response.text
    assert response.content == b""

    old_access = await client.get("/api/v1/users/me", headers=bearer(old_pair["access_token"]))
    assert_envelope(old_access, 401, "UNAUTHORIZED")
    old_refresh = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": old_pair["refresh_token"]}
    )
    assert_envelope(old_refresh, 401, "UNAUTHORIZED")
    assert_envelope(await login(client), 401, "UNAUTHORIZED")
    assert (await login(client, password=NEW_PASSWORD)).status_code == 200

    again = await client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": reset_token, "new_password": "yet another passphrase"},
    )
    assert_envelope(again, 400, "INVALID_TOKEN")
    assert (await login(client, password=NEW_PASSWORD)).status_code == 200


async def test_a_weak_new_password_is_422_and_keeps_the_token(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    await register(client)
    await client.post("/api/v1/auth/password-reset/request", json={"email": "ada@example.com"})
    [mail] = await mails_to(smtp_server, "ada@example.com", RESET_SUBJECT)
    reset_token = token_in(mail, "reset-password")
    for weak in ("short", "password123"):
        response = await client.post(
            "/api/v1/auth/password-reset/confirm", json={"token": reset_token, "new_password": weak}
        )
        error = assert_envelope(response, 422, "VALIDATION_ERROR")
        assert error["details"]["errors"][0]["field"] == "new_password"
    response = await client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": reset_token, "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 204
    assert (await login(client)).status_code == 401


async def test_three_reset_mails_an_hour_then_the_same_answer_and_no_mail(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    await register(client)
    answers = [
        await client.post("/api/v1/auth/password-reset/request", json={"email": "ada@example.com"})
        for _ in range(5)
    ]
    assert {(a.status_code, a.text) for a in answers} == {(202, answers[0].text)}
    await mails_to(smtp_server, "ada@example.com", RESET_SUBJECT, count=3)


async def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    await register(client)
    await mails_to(smtp_server, "ada@example.com", "Welcome to Keel")
    known = await client.post(
        "/api/v1/auth/password-reset/request", json={"email": "ada@example.com"}
    )
    unknown = await client.post(
        "/api/v1/auth/password-reset/request", json={"email": "nobody@example.com"}
    )
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert {k: v for k, v in known.headers.items() if k not in ("x-request-id", "date")} == {
        k: v for k, v in unknown.headers.items() if k not in ("x-request-id", "date")
    }
    await mails_to(smtp_server, "ada@example.com", RESET_SUBJECT)
    assert not [r for r in smtp_server.received if r.rcpt_tos == ["nobody@example.com"]]


@pytest.mark.parametrize(
    "body",
    [
        {"token": "", "new_password": NEW_PASSWORD},
        {"token": "t"},
        {"token": "t", "new_password": NEW_PASSWORD, "extra": 1},
    ],
)
async def test_malformed_confirmations_are_422(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await client.post("/api/v1/auth/password-reset/confirm", json=body)
    assert_envelope(response, 422, "VALIDATION_ERROR")


async def test_mail_that_cannot_be_delivered_never_fails_the_request(
    migrated_url: str, smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The mail server is down: the requests succeed, and the mails wait in the queue to be
    tried again."""
    closed = SmtpServer()  # a port nobody listens on
    app = create_app(mail_settings(migrated_url, smtp_server, smtp_port=closed.port))
    with caplog.at_level("WARNING", logger="keel.jobs"):
        async with serving(app) as client:
            assert (await register(client))["email"] == "ada@example.com"
            response = await client.post(
                "/api/v1/auth/password-reset/request", json={"email": "ada@example.com"}
            )
            assert response.status_code == 202
            # A failure is logged before its job is put back to wait: wait for both.
            for _ in range(200):  # up to 10 s
                waiting = await app.state.container.job_queue().jobs(failed_only=False)
                if len(failures(caplog)) >= 3 and all(job.status == "waiting" for job in waiting):
                    break
                await asyncio.sleep(0.05)
    assert sorted(r.__dict__["kind"] for r in failures(caplog)) == [
        "password_reset_requested",
        "user_registered",
        "verification_requested",
    ]
    assert sorted((job.kind, job.status, job.attempts) for job in waiting) == [
        ("password_reset_requested", "waiting", 1),
        ("user_registered", "waiting", 1),
        ("verification_requested", "waiting", 1),
    ]


def failures(caplog: pytest.LogCaptureFixture) -> list[Any]:
    return [r for r in caplog.records if r.getMessage() == "background job failed"]


# -- enumeration: the time the answer takes ----------------------------------------------


@pytest.fixture
def migrated_sqlite_file(tmp_path: Path) -> str:
    url = sqlite_url_for(tmp_path / "keel.db")
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(AlembicMigrator(url).upgrade).result()
    return url


def test_known_and_unknown_addresses_take_about_the_same_time(
    tmp_path: Path, migrated_sqlite_file: str, smtp_server: SmtpServer
) -> None:
    """Over a real server, where mail goes out after the answer: asking for a known
    address (a token is stored and mail is sent) answers as fast as for an unknown one."""
    env = keel_env(
        tmp_path,
        migrated_sqlite_file,
        SMTP_HOST=smtp_server.host,
        SMTP_PORT=str(smtp_server.port),
        SMTP_TLS="none",
        LOG_LEVEL="WARNING",
    )
    with (
        keel_server(env=env, cwd=tmp_path) as server,
        httpx.Client(base_url=server.base_url) as http,
    ):
        known = [f"user{n}@example.com" for n in range(5)]
        for address in known:
            body = {"email": address, "password": PASSWORD}
            assert http.post("/api/v1/users", json=body).status_code == 201

        def ask(address: str) -> tuple[float, httpx.Response]:
            started = time.perf_counter()
            response = http.post("/api/v1/auth/password-reset/request", json={"email": address})
            return time.perf_counter() - started, response

        ask("warm-up@example.com")
        timings: dict[bool, list[float]] = {True: [], False: []}
        bodies = set()
        for round_ in range(3):  # three links per known account: each one mails
            for n, address in enumerate(known):
                for is_known, email in ((True, address), (False, f"ghost{round_}{n}@example.com")):
                    elapsed, response = ask(email)
                    assert response.status_code == 202
                    bodies.add(response.text)
                    timings[is_known].append(elapsed)
        smtp_server.wait_for(5 * 2 + 15)  # welcome + verification each, then 15 resets
    assert len(bodies) == 1
    known_median = statistics.median(timings[True])
    unknown_median = statistics.median(timings[False])
    # Both are a few milliseconds; sending mail (or hashing) before answering would add tens.
    assert abs(known_median - unknown_median) < 0.025, (known_median, unknown_median)
