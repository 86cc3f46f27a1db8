"""Error reporting: with SENTRY_DSN set, the 500s and the jobs that fail for good reach a real
HTTP server standing in for Sentry, as envelopes with the request id, the route template, the
user's id, the environment and the release, and none of the request's secrets."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
import sentry_sdk
from dependency_injector import providers
from fastapi import Depends, Form

from application.jobs import MAIL_RETRIES
from application.mail import Mail, MailDeliveryFailed
from domain.user import User
from entrypoints.error_reporting import start_error_reporting, stop_error_reporting
from entrypoints.http.app import create_app
from entrypoints.http.dependencies import current_user
from entrypoints.settings import Settings
from tests.e2e.cli_support import KEEL, keel_env, keel_server
from tests.e2e.http_support import access_token, assert_envelope, make_settings, register, serving
from tests.e2e.jobs_support import UNREADABLE_RESET, insert_outbox_entry
from tests.support.jobs import make_waiting_jobs_due, run_due_jobs
from tests.support.migrated import migrated
from tests.support.sentry import SentryReceiver

BOOM_ROUTE = "/api/v1/boom/{item_id}"
FORM_PASSWORD = "form-field-password-8731"
COOKIE = "session-cookie-value-4410"
QUERY_TOKEN = "query-reset-token-5521"
SMTP_PASSWORD = "smtp-password-in-error-9902"
MAIL_KINDS = {"user_registered", "verification_requested"}


@pytest.fixture
def receiver() -> Iterator[SentryReceiver]:
    receiver = SentryReceiver()
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture
def reporting(receiver: SentryReceiver, sqlite_url: str) -> Iterator[Settings]:
    """This test process reports to ``receiver``, as a worker whose settings name it does."""
    settings = make_settings(sqlite_url, sentry_dsn=receiver.dsn, jobs_in_process=False)
    assert start_error_reporting(settings)
    assert not sentry_sdk.get_client().should_send_default_pii()
    try:
        yield settings
    finally:
        stop_error_reporting()


def flushed(receiver: SentryReceiver) -> list[dict[str, Any]]:
    sentry_sdk.flush(timeout=10)
    return receiver.events()


async def test_a_500_is_reported_with_its_request_id_route_and_user_and_no_secret(
    reporting: Settings, receiver: SentryReceiver
) -> None:
    await migrated(reporting.database_url)
    app = create_app(reporting)

    @app.post(BOOM_ROUTE)
    async def boom(
        item_id: int,
        password: Annotated[str, Form()],
        user: Annotated[User, Depends(current_user)],
    ) -> None:
        secret_local = password  # a local variable holding the password
        raise RuntimeError(f"item {item_id} failed: password={secret_local}")

    async with serving(app) as client:
        created = await register(client)
        token = await access_token(client)
        response = await client.post(
            f"/api/v1/boom/31337?reset_token={QUERY_TOKEN}&page=2",
            data={"password": FORM_PASSWORD},
            headers={"Authorization": f"Bearer {token}", "Cookie": f"session={COOKIE}"},
        )
    assert_envelope(response, 500, "INTERNAL_ERROR")
    [event] = flushed(receiver)
    [exception] = event["exception"]["values"]
    assert exception["type"] == "RuntimeError"
    assert event["tags"]["request_id"] == response.headers["x-request-id"]
    assert event["tags"]["route"] == BOOM_ROUTE
    assert event["transaction"] == f"POST {BOOM_ROUTE}"
    assert event["user"] == {"id": created["id"]}
    assert event["environment"] == "test"
    assert event["release"].startswith("keel@")
    # The secret-bearing parts were sent, and redacted.
    assert event["request"]["headers"]["authorization"] == "[REDACTED]"
    assert event["request"]["headers"]["cookie"] == "[REDACTED]"
    assert event["request"]["query_string"] == {"reset_token": "[REDACTED]", "page": "2"}
    assert "password=[REDACTED]" in exception["value"]
    raw = receiver.raw()
    for secret in (token, token.split(".")[2], FORM_PASSWORD, COOKIE, QUERY_TOKEN, "ada@"):
        assert secret.encode() not in raw, secret
    assert b"/api/v1/boom/31337" not in raw  # the template, never the raw path


class FailingSender:
    async def send(self, mail: Mail) -> None:
        raise MailDeliveryFailed(f"smtp.example.com:587: 535 login password={SMTP_PASSWORD}")


async def test_a_job_is_reported_once_it_is_out_of_tries_not_before(
    reporting: Settings, receiver: SentryReceiver
) -> None:
    await migrated(reporting.database_url)
    app = create_app(reporting)
    container = app.state.container
    container.email_sender.override(providers.Object(FailingSender()))
    async with serving(app) as client:
        await register(client)
        for _ in range(MAIL_RETRIES.attempts - 1):
            await run_due_jobs(container)
            make_waiting_jobs_due(container)
        assert flushed(receiver) == []  # tried again later: not an error yet
        await run_due_jobs(container)
    events = flushed(receiver)
    assert {event["tags"]["job_kind"] for event in events} == MAIL_KINDS
    assert len(events) == len(MAIL_KINDS)
    for event in events:
        [exception] = event["exception"]["values"]
        assert exception["type"] == "MailDeliveryFailed"
        assert event["tags"]["job_attempt"] == str(MAIL_RETRIES.attempts)
        assert event["environment"] == "test"
    assert SMTP_PASSWORD.encode() not in receiver.raw()
    assert b"ada@example.com" not in receiver.raw()


async def test_without_a_dsn_a_500_is_not_reported(
    reporting: Settings, receiver: SentryReceiver
) -> None:
    """Even in a process that reports: the app of settings without a DSN has no reporter."""
    settings = make_settings(reporting.database_url)
    await migrated(settings.database_url)
    app = create_app(settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("not for Sentry")

    async with serving(app) as client:
        assert_envelope(await client.get("/boom"), 500, "INTERNAL_ERROR")
    assert flushed(receiver) == []


@pytest.mark.postgres
async def test_keel_serve_reports_a_job_that_fails_for_good(
    tmp_path: Path, postgres_url: str, receiver: SentryReceiver
) -> None:
    """Each serving worker starts reporting by itself, from SENTRY_DSN."""
    await migrated(postgres_url)
    env = keel_env(tmp_path, postgres_url, SENTRY_DSN=receiver.dsn)
    with keel_server(env=env, cwd=tmp_path) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
            assert (await client.get("/health/live")).status_code == 200
        await insert_outbox_entry(postgres_url, "password_reset_requested", UNREADABLE_RESET)
        [event] = await asyncio.to_thread(receiver.wait_for_events, 1)
    assert event["tags"]["job_kind"] == "password_reset_requested"
    assert event["environment"] == "development"
    assert event["exception"]["values"][-1]["type"] in {"KeyError", "ValueError", "TypeError"}


def start_worker(env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    with (cwd / "worker.log").open("wb") as log:
        return subprocess.Popen(
            [str(KEEL), "worker"], stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd
        )


@pytest.mark.postgres
async def test_keel_worker_reports_a_job_that_fails_for_good(
    tmp_path: Path, postgres_url: str, receiver: SentryReceiver
) -> None:
    await migrated(postgres_url)
    env = keel_env(tmp_path, postgres_url, SENTRY_DSN=receiver.dsn, ENVIRONMENT="staging")
    env["JWT_SECRET"] = "s" * 32
    env["ENCRYPTION_KEY"] = "IupzHTMrOXaFMRE85WOTEYIcs3NDLK0WVQIWfYBM1Jc="
    env["TRUSTED_HOSTS"] = "keel.example.com"
    worker = start_worker(env, tmp_path)
    try:
        await insert_outbox_entry(postgres_url, "password_reset_requested", UNREADABLE_RESET)
        [event] = await asyncio.to_thread(receiver.wait_for_events, 1)
    finally:
        worker.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(worker.wait, 15)
    assert code == 0, (tmp_path / "worker.log").read_text()
    assert event["tags"]["job_kind"] == "password_reset_requested"
    assert event["environment"] == "staging"
    assert event["release"].startswith("keel@")
