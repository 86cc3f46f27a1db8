"""The cap on one user's live-event sockets, counted across processes: two `keel serve`
sharing PostgreSQL and Redis, each admitting against one count in Redis."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from harness.redis import RedisServer
from tests.e2e.cli_support import Server, keel_env, keel_server
from tests.e2e.test_live_across_workers import account, bearer
from tests.support.migrated import copies

CAP = 3
TTL_SECONDS = 1.5
TRIALS = 8  # a race that lets one socket too many through one time in five shows


@pytest.fixture
async def redis_db(redis_server: RedisServer) -> str:
    url = redis_server.url(database=6)
    client = Redis.from_url(url)
    await client.flushdb()
    await client.aclose()
    return url


@pytest.fixture
def pair(postgres_url: str, redis_db: str, tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    copies().copy(postgres_url)
    env = keel_env(
        tmp_path,
        postgres_url,
        REDIS_URL=redis_db,
        WS_MAX_CONNECTIONS_PER_USER=str(CAP),
        WS_CONNECTION_TTL_SECONDS=str(TTL_SECONDS),
    )
    with ExitStack() as stack:
        first = stack.enter_context(keel_server(env=env, cwd=tmp_path, name="first"))
        second = stack.enter_context(keel_server(env=env, cwd=tmp_path, name="second"))
        yield first, second


def ws_url(server: Server) -> str:
    return server.base_url.replace("http://", "ws://") + "/api/v1/ws"


async def attempt(server: Server, token: str) -> ClientConnection | int:
    """An open, ready socket, or the code it was closed with."""
    ws = await connect(ws_url(server))
    await ws.send(json.dumps({"type": "auth", "token": token}))
    try:
        answer = json.loads(await asyncio.wait_for(ws.recv(), 10))
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else -1
    assert answer == {"type": "ready"}
    return ws


async def admitted(server: Server, token: str) -> ClientConnection:
    outcome = await attempt(server, token)
    assert not isinstance(outcome, int), outcome
    return outcome


async def slots_in_redis(redis_url: str, user_id: str) -> int:
    client = Redis.from_url(redis_url)
    try:
        count: int = await client.zcard(f"keel:live:sockets:{user_id}")
        return count
    finally:
        await client.aclose()


async def alice(server: Server) -> tuple[str, str]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
        tokens = await account(client, "alice")
        me = await client.get("/api/v1/users/me", headers=bearer(tokens))
        return tokens["access_token"], me.json()["id"]


async def eventually_admitted(server: Server, token: str, seconds: float) -> ClientConnection:
    deadline = time.monotonic() + seconds
    while True:
        outcome = await attempt(server, token)
        if not isinstance(outcome, int):
            return outcome
        assert outcome == 4429
        assert time.monotonic() < deadline, "never admitted"
        await asyncio.sleep(0.05)


async def test_a_user_at_the_cap_through_one_process_is_refused_by_the_other(
    pair: tuple[Server, Server], redis_db: str
) -> None:
    a, b = pair
    token, user_id = await alice(a)
    held = [await admitted(a, token) for _ in range(CAP)]
    try:
        assert await attempt(b, token) == 4429
        assert await attempt(a, token) == 4429
        assert await slots_in_redis(redis_db, user_id) == CAP
        await held.pop().close()
        held.append(await eventually_admitted(b, token, 2))
        assert await attempt(b, token) == 4429
        assert await slots_in_redis(redis_db, user_id) == CAP
    finally:
        for ws in held:
            await ws.close()


async def test_concurrent_connects_over_both_processes_admit_exactly_the_cap(
    pair: tuple[Server, Server], redis_db: str
) -> None:
    token, user_id = await alice(pair[0])
    for _ in range(TRIALS):
        outcomes = await asyncio.gather(*(attempt(pair[n % 2], token) for n in range(50)))
        held = [ws for ws in outcomes if not isinstance(ws, int)]
        refused = [code for code in outcomes if isinstance(code, int)]
        try:
            assert len(held) == CAP
            assert refused == [4429] * (50 - CAP)
            assert await slots_in_redis(redis_db, user_id) == CAP
        finally:
            for ws in held:
                await ws.close()
        deadline = time.monotonic() + 5
        while await slots_in_redis(redis_db, user_id):
            assert time.monotonic() < deadline, "slots not given back on close"
            await asyncio.sleep(0.05)


async def test_the_sockets_of_a_killed_process_stop_counting_after_the_ttl(
    pair: tuple[Server, Server], redis_db: str
) -> None:
    a, b = pair
    token, user_id = await alice(a)
    on_a = [await admitted(a, token) for _ in range(CAP - 1)]
    # One socket on the living process keeps the user's set alive: the dead ones must go
    # one by one, not with the whole set.
    on_b = [await admitted(b, token)]
    try:
        # Renewed while their worker lives: still counted long past the time to live.
        await asyncio.sleep(TTL_SECONDS * 3)
        assert await attempt(b, token) == 4429
        os.killpg(a.process.pid, signal.SIGKILL)
        a.process.wait()
        assert await attempt(b, token) == 4429
        on_b.append(await eventually_admitted(b, token, TTL_SECONDS + 2))
        on_b += [await admitted(b, token) for _ in range(CAP - 2)]
        assert await attempt(b, token) == 4429
        assert await slots_in_redis(redis_db, user_id) == CAP
    finally:
        for ws in on_b:
            await ws.close()
        for dead in on_a:
            dead.transport.abort()
