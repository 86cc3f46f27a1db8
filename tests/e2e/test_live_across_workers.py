"""Live events across processes: two `keel serve` sharing PostgreSQL and Redis. A client
on one hears of what is done through the other, catches up after a reconnect to either,
and is closed by a logout made through the other."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from harness.redis import RedisServer
from tests.e2e.cli_support import Server, keel_env, keel_server
from tests.e2e.http_support import PASSWORD
from tests.support.migrated import copies, migrated

TRIALS = 12  # enough to catch, with high likelihood, a race that hits one time in five


@dataclass
class Pair:
    first: Server
    second: Server

    def ws_url(self, server: Server) -> str:
        return server.base_url.replace("http://", "ws://") + "/api/v1/ws"


@pytest.fixture
async def redis_db(redis_server: RedisServer) -> str:
    url = redis_server.url(database=5)
    client = Redis.from_url(url)
    await client.flushdb()
    await client.aclose()
    return url


@pytest.fixture
def pair(postgres_url: str, redis_db: str, tmp_path: Path) -> Iterator[Pair]:
    copies().copy(postgres_url)
    env = keel_env(tmp_path, postgres_url, REDIS_URL=redis_db)
    with ExitStack() as stack:
        first = stack.enter_context(keel_server(env=env, cwd=tmp_path, name="first"))
        second = stack.enter_context(keel_server(env=env, cwd=tmp_path, name="second"))
        yield Pair(first, second)


@pytest.fixture
async def http(pair: Pair) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    async with (
        httpx.AsyncClient(base_url=pair.first.base_url, timeout=10) as a,
        httpx.AsyncClient(base_url=pair.second.base_url, timeout=10) as b,
    ):
        yield a, b


async def account(client: httpx.AsyncClient, name: str) -> dict[str, str]:
    email = f"{name}@example.com"
    registered = await client.post("/api/v1/users", json={"email": email, "password": PASSWORD})
    assert registered.status_code == 201, registered.text
    return await session(client, name)


async def session(client: httpx.AsyncClient, name: str) -> dict[str, str]:
    answer = await client.post(
        "/api/v1/auth/login", data={"username": f"{name}@example.com", "password": PASSWORD}
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, str] = answer.json()
    return body


async def ready(url: str, token: str, after: str | None = None) -> ClientConnection:
    ws = await connect(url)
    await ws.send(json.dumps({"type": "auth", "token": token, "after": after}))
    assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"type": "ready"}
    return ws


async def next_event(ws: ClientConnection, seconds: float = 5) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), seconds))
    return message


def bearer(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def test_a_client_on_one_process_hears_of_items_made_through_the_other(
    pair: Pair, http: tuple[httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    a, _ = http
    alice = await account(a, "alice")
    ws = await ready(pair.ws_url(pair.second), alice["access_token"])
    try:
        for trial in range(TRIALS):
            started = time.monotonic()
            made = await a.post("/api/v1/items", json={"title": f"t{trial}"}, headers=bearer(alice))
            assert made.status_code == 201
            event = await next_event(ws, 1.0)
            assert time.monotonic() - started < 1.0
            assert (event["type"], event["item_id"]) == ("item.created", made.json()["id"])
    finally:
        await ws.close()


async def test_a_reconnect_to_either_process_replays_exactly_what_was_missed(
    pair: Pair, http: tuple[httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    a, b = http
    alice = await account(a, "alice")
    for trial in range(TRIALS // 3):
        ws = await ready(pair.ws_url(pair.second), alice["access_token"])
        made = await a.post("/api/v1/items", json={"title": "seen"}, headers=bearer(alice))
        seen = await next_event(ws)
        assert seen["item_id"] == made.json()["id"]
        await ws.close()
        missed = []
        for n in range(3):
            through = (a, b)[n % 2]
            answer = await through.post(
                "/api/v1/items", json={"title": f"missed {n}"}, headers=bearer(alice)
            )
            missed.append(answer.json()["id"])
        server = (pair.first, pair.second)[trial % 2]
        ws = await ready(pair.ws_url(server), alice["access_token"], after=seen["id"])
        try:
            replayed = [await next_event(ws) for _ in range(3)]
            assert [e["item_id"] for e in replayed] == missed
            late = await b.post("/api/v1/items", json={"title": "late"}, headers=bearer(alice))
            assert (await next_event(ws))["item_id"] == late.json()["id"]
        finally:
            await ws.close()


async def test_a_logout_through_one_process_closes_a_socket_on_the_other(
    pair: Pair, http: tuple[httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    a, b = http
    await account(a, "alice")
    for _ in range(TRIALS // 2):
        tokens = await session(b, "alice")
        ws = await ready(pair.ws_url(pair.second), tokens["access_token"])
        started = time.monotonic()
        out = await a.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]})
        assert out.status_code == 204
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 1.0)
        assert time.monotonic() - started < 1.0
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4401


async def test_a_stopping_server_closes_its_sockets_with_1001(
    postgres_url: str, tmp_path: Path
) -> None:
    await migrated(postgres_url)
    env = keel_env(tmp_path, postgres_url)
    with keel_server(env=env, cwd=tmp_path, args=["--workers", "2"]) as server:
        url = server.base_url.replace("http://", "ws://") + "/api/v1/ws"
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
            alice = await account(client, "alice")
        sockets = [await ready(url, alice["access_token"]) for _ in range(4)]
        code = await asyncio.to_thread(server.stop)
        for ws in sockets:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1001
    assert code == 0


async def test_a_socket_outlives_the_deadlines_of_an_http_request(
    postgres_url: str, tmp_path: Path
) -> None:
    await migrated(postgres_url)
    env = keel_env(tmp_path, postgres_url, HTTP_HEAD_TIMEOUT_SECONDS="0.5")
    with keel_server(env=env, cwd=tmp_path) as server:
        url = server.base_url.replace("http://", "ws://") + "/api/v1/ws"
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
            alice = await account(client, "alice")
            ws = await ready(url, alice["access_token"])
            try:
                await asyncio.sleep(1.5)
                made = await client.post(
                    "/api/v1/items", json={"title": "x"}, headers=bearer(alice)
                )
                assert (await next_event(ws))["item_id"] == made.json()["id"]
            finally:
                await ws.close()


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def test_a_client_that_stops_reading_is_dropped_and_memory_stays_bounded(
    postgres_url: str, tmp_path: Path
) -> None:
    await migrated(postgres_url)
    with keel_server(env=keel_env(tmp_path, postgres_url), cwd=tmp_path) as server:
        url = server.base_url.replace("http://", "ws://") + "/api/v1/ws"
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
            alice = await account(client, "alice")
            # The client takes one message and then reads nothing: the server's buffers
            # and the socket's queue fill, and it must be let go.
            stalled = await connect(url, max_queue=1)
            await stalled.send(json.dumps({"type": "auth", "token": alice["access_token"]}))
            before = _rss_mb(server.process.pid)
            body = {"title": "big", "description": "x" * 10_000}

            async def post_some(count: int) -> None:
                for _ in range(count):
                    made = await client.post("/api/v1/items", json=body, headers=bearer(alice))
                    assert made.status_code == 201

            await asyncio.gather(*(post_some(150) for _ in range(8)))
            deadline = time.monotonic() + 20
            dropped = 0.0
            while time.monotonic() < deadline and not dropped:
                metrics = (await client.get("/metrics")).text
                dropped = sum(
                    float(line.split()[-1])
                    for line in metrics.splitlines()
                    if line.startswith("keel_live_clients_dropped_slow_total ")
                )
                await asyncio.sleep(0.5)
            after = _rss_mb(server.process.pid)
        await stalled.close()
    assert dropped == 1
    assert after - before < 60, (before, after)


def _open_sockets(metrics: str) -> float:
    return sum(
        float(line.split()[-1])
        for line in metrics.splitlines()
        if line.startswith("keel_live_sockets ")
    )


async def test_a_client_that_stops_answering_pings_is_dropped_after_the_pong_deadline(
    tmp_path: Path,
) -> None:
    """Pings every 0.5 s, pongs due 1 s later: a client whose transport stops reading never
    answers and is closed with 1011; one that keeps reading stays."""
    env = keel_env(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path / 'k.db'}",
        WS_PING_SECONDS="0.5",
        WS_PONG_TIMEOUT_SECONDS="1",
    )
    await migrated(env["DATABASE_URL"])
    with keel_server(env=env, cwd=tmp_path) as server:
        url = server.base_url.replace("http://", "ws://") + "/api/v1/ws"
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
            alice = await account(client, "alice")
            hello = json.dumps({"type": "auth", "token": alice["access_token"]})
            async with connect(url) as alive, connect(url) as silent:
                for ws in (alive, silent):
                    await ws.send(hello)
                    assert json.loads(await ws.recv()) == {"type": "ready"}
                assert _open_sockets((await client.get("/metrics")).text) == 2
                silent.transport.pause_reading()
                await asyncio.sleep(3.5)
                assert _open_sockets((await client.get("/metrics")).text) == 1
                silent.transport.resume_reading()
                with pytest.raises(ConnectionClosed) as closed:
                    await asyncio.wait_for(silent.recv(), 5)
                assert closed.value.rcvd is not None
                assert closed.value.rcvd.code == 1011
                await alive.send(json.dumps({"type": "ping"}))
                assert json.loads(await asyncio.wait_for(alive.recv(), 5)) == {"type": "pong"}
