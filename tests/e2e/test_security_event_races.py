"""The audit trail under concurrent requests, on PostgreSQL: each cause records its event
exactly once, however the requests interleave and whatever the retries do. Each race runs
several trials, enough to catch an interleaving that happens one time in five."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from entrypoints.http.app import create_app
from tests.e2e.http_support import (
    access_token,
    assert_envelope,
    bearer,
    login,
    make_settings,
    register,
    serving,
)
from tests.support.migrated import migrated
from tests.support.sql import scalar

pytestmark = pytest.mark.postgres

TRIALS = 5


@pytest.fixture
async def url(postgres_url: str) -> str:
    await migrated(postgres_url)
    return postgres_url


@pytest.fixture
async def app(url: str) -> FastAPI:
    return create_app(
        make_settings(
            url,
            database_pool_size=30,
            database_max_overflow=20,
            password_hash_threads=4,
            password_hash_queue_size=100,
        )
    )


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app) as client:
        yield client


async def count(url: str, user_id: str, kind: str) -> int:
    return int(
        await scalar(
            url,
            "SELECT count(*) FROM security_events WHERE user_id = :u AND type = :t",
            u=uuid.UUID(user_id),
            t=kind,
        )
    )


async def test_twenty_wrong_passwords_at_once_record_each_checked_one_and_one_throttle(
    client: httpx.AsyncClient, url: str
) -> None:
    for trial in range(TRIALS):
        email = f"ada{trial}@example.com"
        user_id = (await register(client, email))["id"]
        answers = await asyncio.gather(
            *(
                client.post("/api/v1/auth/login", data={"username": email, "password": "no-9999"})
                for _ in range(20)
            )
        )
        checked = [a for a in answers if a.status_code == 401]
        throttled = [a for a in answers if a.status_code == 429]
        assert len(checked) + len(throttled) == 20
        assert len(checked) == 5  # LOGIN_RATE_LIMIT, counted before the hash
        for answer in throttled:
            assert_envelope(answer, 429, "RATE_LIMITED")
        assert await count(url, user_id, "login.failed") == len(checked)
        assert await count(url, user_id, "login.throttled") == 1


async def test_ten_logouts_everywhere_at_once_record_ten_and_no_retry_adds_one(
    client: httpx.AsyncClient, url: str
) -> None:
    for trial in range(TRIALS):
        email = f"bob{trial}@example.com"
        user_id = (await register(client, email))["id"]
        tokens = [await access_token(client, email) for _ in range(10)]
        answers = await asyncio.gather(
            *(client.post("/api/v1/auth/logout-all", headers=bearer(t)) for t in tokens)
        )
        # A token whose session an earlier logout ended is refused: no cause, no event.
        done = [a for a in answers if a.status_code == 204]
        for answer in answers:
            if answer.status_code != 204:
                assert_envelope(answer, 401, "UNAUTHORIZED")
        assert done
        assert await count(url, user_id, "sessions.ended") == len(done)


async def test_one_refresh_token_logged_out_ten_times_at_once_records_one_end(
    client: httpx.AsyncClient, url: str
) -> None:
    for trial in range(TRIALS):
        email = f"cy{trial}@example.com"
        user_id = (await register(client, email))["id"]
        refresh = (await login(client, email)).json()["refresh_token"]
        answers = await asyncio.gather(
            *(
                client.post("/api/v1/auth/logout", json={"refresh_token": refresh})
                for _ in range(10)
            )
        )
        assert {a.status_code for a in answers} == {204}
        assert await count(url, user_id, "session.ended") == 1


async def test_a_spent_refresh_token_replayed_at_once_records_one_reuse(
    client: httpx.AsyncClient, url: str
) -> None:
    for trial in range(TRIALS):
        email = f"di{trial}@example.com"
        user_id = (await register(client, email))["id"]
        refresh = (await login(client, email)).json()["refresh_token"]
        answers = await asyncio.gather(
            *(
                client.post("/api/v1/auth/refresh", json={"refresh_token": refresh})
                for _ in range(10)
            )
        )
        assert sum(a.status_code == 200 for a in answers) <= 1
        again = await client.post("/api/v1/auth/refresh", json={"refresh_token": refresh})
        assert_envelope(again, 401, "UNAUTHORIZED")
        assert await count(url, user_id, "refresh_token.reused") == 1
