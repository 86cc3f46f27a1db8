"""`keel serve` stops gracefully: on SIGTERM it refuses new connections, finishes the requests
in flight, closes the database pool and exits with status 0."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.e2e.cli_support import PASSWORD, keel_env, keel_server, sqlite_url_for
from tests.support.migrated import migrated
from tests.support.postgres import row_locked


def log_events(log: str) -> list[dict[str, Any]]:
    """The server's JSON log lines, in order."""
    events = []
    for line in log.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def position(events: list[dict[str, Any]], **fields: Any) -> int:
    """Index of the first event with all ``fields``."""
    for index, event in enumerate(events):
        if all(event.get(key) == value for key, value in fields.items()):
            return index
    raise AssertionError(f"no log line with {fields}")


async def keel_connections(dsn: str, database: str) -> int:
    """Sessions Keel's pool has open on ``database`` (the engine names them 'keel')."""
    connection = await asyncpg.connect(dsn)
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = $1 AND application_name = 'keel'",
            database,
        )
        return count
    finally:
        await connection.close()


async def wait_until_refused(port: int) -> None:
    """Return once the port refuses connections."""
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except ConnectionRefusedError:
            return
        writer.close()
        await writer.wait_closed()
        await asyncio.sleep(0.05)


async def wait_for_no_keel_connections(dsn: str, database: str) -> None:
    """A closed session leaves pg_stat_activity a moment after the client hung up."""
    try:
        async with asyncio.timeout(3):
            while True:
                if not await keel_connections(dsn, database):
                    return
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError("a pooled connection outlived the server") from None


@pytest.mark.postgres
async def test_sigterm_finishes_the_request_in_flight_then_closes_the_pool_and_exits_0(
    tmp_path: Path, postgres_url: str
) -> None:
    await migrated(postgres_url)
    dsn = postgres_url.replace("+asyncpg", "", 1)
    database = dsn.rsplit("/", 1)[1]
    env = keel_env(tmp_path, postgres_url, LOG_FORMAT="json")
    account = {"email": "ada@example.com", "password": PASSWORD, "full_name": "Ada"}
    credentials = {"username": account["email"], "password": PASSWORD}

    with keel_server(env=env, cwd=tmp_path) as server:
        port = int(server.base_url.rsplit(":", 1)[1])
        async with httpx.AsyncClient(base_url=server.base_url, timeout=20) as client:
            assert (await client.post("/api/v1/users", json=account)).status_code == 201
            login = await client.post("/api/v1/auth/login", data=credentials)
            assert login.status_code == 200, login.text
            bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
            created = await client.post("/api/v1/items", json={"title": "old"}, headers=bearer)
            assert created.status_code == 201, created.text
            item = created.json()
            assert await keel_connections(dsn, database) >= 1  # the pool is open

            async with row_locked(postgres_url, "items", item["id"]) as lock:
                # A write that waits on the lock: in flight when the signal comes.
                in_flight = asyncio.create_task(
                    client.patch(
                        f"/api/v1/items/{item['id']}", json={"title": "new"}, headers=bearer
                    )
                )
                await lock.wait_for_waiter()
                server.process.send_signal(signal.SIGTERM)
                signalled = time.monotonic()
                async with asyncio.timeout(5):
                    await wait_until_refused(port)
                refused_after = time.monotonic() - signalled
                assert not in_flight.done()
                assert server.process.poll() is None, "exited before the request was answered"
                await asyncio.sleep(0.3)  # still waiting for the request, not for a timeout
                assert server.process.poll() is None
                assert not in_flight.done()

            answered = await asyncio.wait_for(in_flight, 10)
            assert answered.status_code == 200, answered.text
            assert answered.json()["title"] == "new"

        code = await asyncio.to_thread(server.process.wait, 15)
        drained = time.monotonic() - signalled

    log = server.output()
    assert code == 0, log
    assert refused_after < 1.0, refused_after
    assert drained < 5.0, drained
    assert "Traceback" not in log
    assert "timeout graceful shutdown exceeded" not in log
    # The pool was closed by the shutdown, after the last request was answered.
    events = log_events(log)
    answered_at = position(events, logger="keel.access", method="PATCH", status=200)
    closed_at = position(events, logger="keel.database", event="database pool closed")
    assert answered_at < closed_at
    await wait_for_no_keel_connections(dsn, database)
    after = await asyncpg.connect(dsn)
    try:
        title = await after.fetchval("SELECT title FROM items WHERE id = $1::uuid", item["id"])
    finally:
        await after.close()
    assert title == "new"


def test_ctrl_c_stops_the_server_quietly_with_status_0(tmp_path: Path) -> None:
    env = keel_env(tmp_path, sqlite_url_for(tmp_path / "keel.db"))
    with keel_server(env=env, cwd=tmp_path) as server:
        assert httpx.get(f"{server.base_url}/health/live", timeout=5).status_code == 200
        server.process.send_signal(signal.SIGINT)
        code = server.process.wait(timeout=10)
    log = server.output()
    assert code == 0, log
    assert "Application shutdown complete" in log
    assert "database pool closed" in log
    assert "Traceback" not in log
    assert "Aborted" not in log
