"""The HTTP API while PostgreSQL is down, slow or saturated.

The outage tests stop and restart a PostgreSQL server of their own (never the session's shared
one, which other tests use meanwhile) under an app that keeps running: its real asyncpg pool
must answer 503 quickly while the database is gone, and serve again by itself once it is back.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from typing import Any

import httpx
import pytest

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
from tests.support.postgres import PostgresServer, row_locked

pytestmark = pytest.mark.postgres

READY_BOUND = 2.0  # the readiness check's own limit
# A request that needs the database gives up within the connect timeout (5 s); it must never
# wait for the pool timeout and the connect timeout one after the other.
REQUEST_BOUND = 7.0
RECOVERY_BOUND = 10.0
# What a 503 body must never show: driver, database, addresses, SQL, traces.
INTERNALS = (
    "asyncpg",
    "postgres",
    "sqlalchemy",
    "traceback",
    "select ",
    "insert ",
    "update ",
    "127.0.0.1",
    "refused",
    "connect call",
    "canceling statement",
)


@pytest.fixture(scope="module")
def outage_server() -> Iterator[PostgresServer]:
    """A server of this module's own, so that stopping it disturbs no other test."""
    server = PostgresServer(private=True)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def outage_url(outage_server: PostgresServer) -> AsyncIterator[str]:
    name = f"keel_outage_{uuid.uuid4().hex[:12]}"
    outage_server.create_database(name)
    url = outage_server.url(name)
    await migrated(url)
    try:
        yield url
    finally:
        outage_server.drop_database(name)


async def timed(
    request: Awaitable[httpx.Response], limit: float = 15.0
) -> tuple[httpx.Response, float]:
    """The answer and the seconds it took; a request still hanging after ``limit`` fails."""
    started = time.monotonic()
    response = await asyncio.wait_for(request, limit)
    return response, time.monotonic() - started


# Readiness names the cause of a failing check in these few words (operators read it); a
# stopped server is refused, or its pooled connections found dead.
STOPPED_DATABASE_CAUSES = {"unavailable", "connection refused", "connection lost"}


def assert_unavailable(response: httpx.Response, *, port: int | None = None) -> dict[str, Any]:
    """503 SERVICE_UNAVAILABLE in the envelope, with nothing internal in the body: no more
    than readiness's named cause of each check."""
    error = assert_envelope(response, 503, "SERVICE_UNAVAILABLE")
    assert response.headers.get("retry-after"), response.headers
    assert set(response.json()) == {"error"}
    checks = error["details"].get("checks", {})
    failing = {name: cause for name, cause in checks.items() if cause != "ok"}
    assert set(failing.values()) <= STOPPED_DATABASE_CAUSES, checks
    # Everything but the request id, which is random hex and may contain any digits, and
    # the named causes.
    shown = json.dumps(
        {key: value for key, value in error.items() if key not in ("request_id", "details")}
        | {"details": {k: v for k, v in error["details"].items() if k != "checks"}}
    )
    for internal in (*INTERNALS, *([str(port)] if port else [])):
        assert internal not in shown.lower(), f"{internal!r} leaked into {response.text}"
    return error


async def item_titles(client: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    response = await client.get("/api/v1/items", params={"page_size": 100}, headers=headers)
    assert response.status_code == 200, response.text
    return sorted(item["title"] for item in response.json()["items"])


async def create_item(
    client: httpx.AsyncClient, headers: dict[str, str], title: str
) -> dict[str, Any]:
    response = await client.post("/api/v1/items", json={"title": title}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_stopped_database_is_a_quick_503_and_the_service_recovers_by_itself(
    outage_server: PostgresServer, outage_url: str
) -> None:
    app = create_app(make_settings(outage_url))
    async with serving(app) as client:
        await register(client)
        headers = bearer(await access_token(client))
        before = [await create_item(client, headers, f"before {n}") for n in range(3)]
        # Several pooled connections, all of which the restart below leaves dead.
        await asyncio.gather(*(item_titles(client, headers) for _ in range(4)))

        await asyncio.to_thread(outage_server.halt)

        ready, ready_seconds = await timed(client.get("/health/ready"))
        error = assert_unavailable(ready, port=outage_server.port)
        assert set(error["details"]["checks"]) == {"database", "storage"}
        assert ready_seconds < READY_BOUND, ready_seconds
        live = await client.get("/health/live")
        assert live.status_code == 200, live.text

        attempts = {
            "list items": client.get("/api/v1/items", headers=headers),
            "create item": client.post(
                "/api/v1/items", json={"title": "during the outage"}, headers=headers
            ),
            "read an item": client.get(f"/api/v1/items/{before[0]['id']}", headers=headers),
            "log in": login(client),
            "read me": client.get("/api/v1/users/me", headers=headers),
        }
        for what, request in attempts.items():
            response, seconds = await timed(request)
            assert_unavailable(response, port=outage_server.port)
            assert seconds < REQUEST_BOUND, f"{what} took {seconds:.2f} s"
        # Readiness keeps answering quickly, again and again, while the database is away.
        for _ in range(3):
            ready, ready_seconds = await timed(client.get("/health/ready"))
            assert ready.status_code == 503
            assert ready_seconds < READY_BOUND, ready_seconds

        await asyncio.to_thread(outage_server.resume)

        # Same app, same pool: no restart. Readiness turns 200 on its own.
        started = time.monotonic()
        while (await client.get("/health/ready")).status_code != 200:
            assert time.monotonic() - started < RECOVERY_BOUND, "not ready again"
            await asyncio.sleep(0.1)

        me = await client.get("/api/v1/users/me", headers=headers)
        assert me.status_code == 200, me.text  # the token issued before the outage
        assert await item_titles(client, headers) == ["before 0", "before 1", "before 2"]
        await create_item(client, headers, "after")
        assert await item_titles(client, headers) == ["after", "before 0", "before 1", "before 2"]
        relogin = await login(client)
        assert relogin.status_code == 200, relogin.text


async def test_the_first_requests_after_a_database_restart_succeed(
    outage_server: PostgresServer, outage_url: str
) -> None:
    """A restart between two requests leaves every pooled connection dead; the next requests
    must get fresh ones, not a 500 nor a 503."""
    app = create_app(make_settings(outage_url))
    async with serving(app) as client:
        await register(client)
        headers = bearer(await access_token(client))
        await create_item(client, headers, "kept")
        await asyncio.gather(*(item_titles(client, headers) for _ in range(4)))
        pooled = app.state.container.engine().pool.checkedin()
        assert pooled >= 2, pooled

        await asyncio.to_thread(outage_server.halt)
        await asyncio.to_thread(outage_server.resume)

        responses = await asyncio.gather(
            *(client.get("/api/v1/items", headers=headers) for _ in range(pooled))
        )
        assert [r.status_code for r in responses] == [200] * pooled, [r.text for r in responses]
        await create_item(client, headers, "new")
        assert await item_titles(client, headers) == ["kept", "new"]


# -- a slow database: the statement timeout and the pool timeout -------------------------


async def test_a_statement_stuck_on_a_lock_is_cancelled_and_answered_503(
    postgres_url: str,
) -> None:
    await migrated(postgres_url)
    settings = make_settings(postgres_url, database_statement_timeout_ms=500)
    async with serving(create_app(settings)) as client:
        await register(client)
        headers = bearer(await access_token(client))
        item = await create_item(client, headers, "locked")
        async with row_locked(postgres_url, "items", item["id"]):
            response, seconds = await timed(
                client.patch(
                    f"/api/v1/items/{item['id']}", json={"title": "changed"}, headers=headers
                )
            )
        assert_unavailable(response)
        assert 0.4 < seconds < 3, seconds  # the statement timeout, not a hang
        after = await client.get(f"/api/v1/items/{item['id']}", headers=headers)
        assert after.json()["title"] == "locked"
        # The cancelled statement spoilt nothing: the same change now goes through.
        again = await client.patch(
            f"/api/v1/items/{item['id']}", json={"title": "changed"}, headers=headers
        )
        assert again.status_code == 200, again.text


async def test_a_full_pool_answers_503_after_the_pool_timeout_instead_of_queueing(
    postgres_url: str,
) -> None:
    await migrated(postgres_url)
    settings = make_settings(
        postgres_url,
        database_pool_size=1,
        database_max_overflow=0,
        database_pool_timeout=0.5,
        database_statement_timeout_ms=10_000,
    )
    async with serving(create_app(settings)) as client:
        await register(client)
        headers = bearer(await access_token(client))
        item = await create_item(client, headers, "locked")
        async with row_locked(postgres_url, "items", item["id"]) as lock:
            # This request takes the only connection and waits on the lock.
            stuck = asyncio.create_task(
                client.patch(
                    f"/api/v1/items/{item['id']}", json={"title": "changed"}, headers=headers
                )
            )
            await lock.wait_for_waiter()
            response, seconds = await timed(client.get("/api/v1/items", headers=headers))
            assert_unavailable(response)
            assert 0.4 < seconds < 2.5, seconds  # the pool timeout, then a 503
            ready = await client.get("/health/ready")
            assert ready.status_code == 503
            assert not stuck.done()
        # The lock is gone: the waiting request finishes, and the pool serves again.
        finished = await asyncio.wait_for(stuck, 5)
        assert finished.status_code == 200, finished.text
        assert await item_titles(client, headers) == ["changed"]
