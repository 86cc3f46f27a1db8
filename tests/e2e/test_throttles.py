"""Attempts counted before the work they guard, over HTTP, under bursts of concurrent requests
on PostgreSQL: logins, current passwords, registrations, reset and verification mails; a full
hashing queue; and the password-reset request doing the same work for any address."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from dependency_injector import providers
from fastapi import FastAPI
from sqlalchemy import event
from starlette.types import Message, Receive, Scope, Send

from entrypoints.http.app import create_app
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
from tests.support.hashing import CountingHasher, GatedHasher
from tests.support.migrated import migrated
from tests.support.sql import scalar

TRIALS = 5
BURST = 40
RESET = "/api/v1/auth/password-reset/request"


@pytest.fixture
async def url(postgres_url: str) -> str:
    await migrated(postgres_url)
    return postgres_url


@pytest.fixture
def hasher() -> CountingHasher:
    return CountingHasher()


@pytest.fixture
async def client(url: str, hasher: CountingHasher) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(url, database_pool_size=45))
    app.state.container.password_hasher.override(providers.Object(hasher))
    async with serving(app) as client:
        yield client
    hasher.close()


async def tokens(url: str, email: str, purpose: str, expected: int) -> int:
    """The tokens the background jobs made: waited for (bounded) up to ``expected``, then a
    moment more for any that should not be coming."""
    for _ in range(100):
        if await _tokens(url, email, purpose) >= expected:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    return await _tokens(url, email, purpose)


async def _tokens(url: str, email: str, purpose: str) -> int:
    count: int = await scalar(
        url,
        "SELECT count(*) FROM one_time_tokens t JOIN users u ON u.id = t.user_id"
        " WHERE u.email = :email AND t.purpose = :purpose",
        email=email,
        purpose=purpose,
    )
    return count


async def test_forty_wrong_logins_at_once_get_five_checks(
    client: httpx.AsyncClient, hasher: CountingHasher
) -> None:
    for trial in range(TRIALS):
        email = f"burst-{trial}@example.com"
        await register(client, email)
        wrong = {"username": email, "password": "wrong password"}
        checked = hasher.verified
        responses = await asyncio.gather(
            *(client.post("/api/v1/auth/login", data=wrong) for _ in range(BURST))
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [401] * 5 + [429] * (BURST - 5), statuses
        assert hasher.verified - checked == 5  # the others were refused before the hash
        for response in responses:
            if response.status_code == 429:
                error = assert_envelope(response, 429, "RATE_LIMITED")
                assert 1 <= error["details"]["retry_after"] <= 60
                assert response.headers["retry-after"] == str(error["details"]["retry_after"])
        assert (await login(client, email)).status_code == 429  # the right one waits too


async def test_current_password_guesses_at_once_get_five_checks(
    client: httpx.AsyncClient, hasher: CountingHasher
) -> None:
    for trial in range(TRIALS):
        email = f"guess-{trial}@example.com"
        await register(client, email)
        headers = bearer(await access_token(client, email))
        checked = hasher.verified
        responses = await asyncio.gather(
            *(
                client.patch(
                    "/api/v1/users/me",
                    json={"password": "a brand new password", "current_password": f"guess {n}"},
                    headers=headers,
                )
                for n in range(20)
            )
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [422] * 5 + [429] * 15, statuses
        assert hasher.verified - checked == 5
        # The same count as logins: the account is throttled for them too.
        assert_envelope(await login(client, email), 429, "RATE_LIMITED")


async def test_a_burst_of_reset_requests_mails_at_most_three(
    client: httpx.AsyncClient, url: str
) -> None:
    for trial in range(TRIALS):
        email = f"reset-{trial}@example.com"
        await register(client, email)
        responses = await asyncio.gather(
            *(client.post(RESET, json={"email": email}) for _ in range(20))
        )
        assert {r.status_code for r in responses} == {202}
        assert await tokens(url, email, "password_reset", 3) == 3


async def test_a_burst_of_resends_mails_at_most_three(client: httpx.AsyncClient, url: str) -> None:
    for trial in range(TRIALS):
        email = f"verify-{trial}@example.com"
        await register(client, email)
        # Its verification mail, once the background job sent it, is the first of three.
        assert await tokens(url, email, "email_verification", 1) == 1
        headers = bearer(await access_token(client, email))
        responses = await asyncio.gather(
            *(client.post("/api/v1/auth/verify/resend", headers=headers) for _ in range(20))
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [204] * 2 + [429] * 18, statuses
        assert await tokens(url, email, "email_verification", 3) == 3


async def test_registrations_are_limited_per_address(url: str) -> None:
    app = create_app(make_settings(url, registration_rate_limit="3/hour"))
    async with serving(app) as client:
        responses = await asyncio.gather(
            *(
                client.post(
                    "/api/v1/users", json={"email": f"r{n}@example.com", "password": PASSWORD}
                )
                for n in range(12)
            )
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201] * 3 + [429] * 9, statuses
        error = assert_envelope(
            next(r for r in responses if r.status_code == 429), 429, "RATE_LIMITED"
        )
        assert 3590 <= error["details"]["retry_after"] <= 3600
    assert await scalar(url, "SELECT count(*) FROM users") == 3


async def test_a_full_hashing_queue_answers_503_at_once(url: str) -> None:
    app = create_app(make_settings(url))
    hasher = GatedHasher(max_threads=1, max_queue=0)
    app.state.container.password_hasher.override(providers.Object(hasher))
    try:
        async with serving(app) as client:
            await asyncio.to_thread(hasher.gate.set)
            await register(client)
            hasher.gate.clear()
            held = asyncio.ensure_future(login(client, password="wrong password"))
            await asyncio.to_thread(hasher.wait_started, 2)  # the registration's, then this
            # Every thread is held shut: these are answered without waiting for one.
            busy = await asyncio.wait_for(
                asyncio.gather(
                    *(login(client, f"u{n}@example.com", "wrong password") for n in range(10)),
                    client.post(
                        "/api/v1/users", json={"email": "b@example.com", "password": PASSWORD}
                    ),
                ),
                timeout=10,
            )
            assert not held.done()
            for response in busy:
                assert_envelope(response, 503, "SERVICE_UNAVAILABLE")
                assert response.headers["retry-after"] == "1"
            hasher.gate.set()
            assert (await held).status_code == 401
            # Refused attempts are not counted: of five, one so far; four more are checked.
            for _ in range(4):
                assert (await login(client, password="wrong password")).status_code == 401
            assert (await login(client)).status_code == 429
    finally:
        hasher.gate.set()
        hasher.close()


class StatementsBeforeTheAnswer:
    """Wraps the app: the SQL each request ran before its answer was complete, one list
    per request."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.requests: list[list[str]] = []
        self._current: list[str] | None = None
        engine = app.state.container.engine().sync_engine
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self._current is not None:
            self._current.append(" ".join(statement.split()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self._current = []
        self.requests.append(self._current)

        async def answering(message: Message) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self._current = None
            await send(message)

        await self.app(scope, receive, answering)


@asynccontextmanager
async def recording(
    app: FastAPI,
) -> AsyncIterator[tuple[httpx.AsyncClient, StatementsBeforeTheAnswer]]:
    recorder = StatementsBeforeTheAnswer(app)
    transport = httpx.ASGITransport(app=recorder)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://keel.test") as client,
    ):
        yield client, recorder


async def test_a_reset_request_runs_the_same_sql_before_its_answer_either_way(
    migrated_url: str,
) -> None:
    """The same work before the answer whether or not the account exists: the request is
    recorded, nothing is looked up (the lookup, the token and the mail are a background
    job's). Jobs are run by hand here, so that only the requests' SQL is recorded."""
    app = create_app(make_settings(migrated_url, jobs_in_process=False))
    async with recording(app) as (client, recorder):
        await register(client, "ada@example.com")
        statements = []
        for email in ("ada@example.com", "nobody@example.com", "ada@example.com"):
            response = await client.post(RESET, json={"email": email})
            assert response.status_code == 202
            statements.append(recorder.requests[-1])
        assert statements[0] == statements[1] == statements[2]
        assert not [sql for sql in statements[0] if "users" in sql], statements[0]
        # Each stored its request (on PostgreSQL by asyncpg directly, unseen by the recorder).
        recorded = await scalar(
            migrated_url, "SELECT count(*) FROM outbox WHERE kind = 'password_reset_requested'"
        )
        assert recorded == 3
        await app.state.container.job_runner().drain()
    # ...and the links for the real account were made by the jobs.
    made = await scalar(
        migrated_url, "SELECT count(*) FROM one_time_tokens WHERE purpose = 'password_reset'"
    )
    assert made == 2
