"""Throttles and client addresses through real `keel serve` processes: two servers of two
workers each sharing one Redis and one PostgreSQL count one limit between them, and the
server believes no forwarded header it was not told to."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.sql import text

from tests.e2e.cli_support import PASSWORD, assert_error, keel_env, keel_server, run_keel
from tests.support.migrated import migrated
from tests.support.redis import RedisServer

TRIALS = 5
BURST = 40
LOGIN = "/api/v1/auth/login"


async def reset_tokens(url: str, email: str) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            count: int = (
                await connection.execute(
                    text(
                        "SELECT count(*) FROM one_time_tokens t JOIN users u ON u.id = t.user_id"
                        " WHERE u.email = :email AND t.purpose = 'password_reset'"
                    ),
                    {"email": email},
                )
            ).scalar_one()
            return count
    finally:
        await engine.dispose()


async def settled_reset_tokens(url: str, email: str, expected: int) -> int:
    """The tokens are made after the answers: wait for them (bounded), then a moment more
    for any that should not be coming."""
    deadline = time.monotonic() + 15
    for _ in range(150):
        if await reset_tokens(url, email) >= expected or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)
    return await reset_tokens(url, email)


@pytest.mark.redis
async def test_two_servers_of_two_workers_share_one_count(
    tmp_path: Path, postgres_url: str, redis_server: RedisServer
) -> None:
    await migrated(postgres_url)
    redis_url = redis_server.url(database=5)
    client = Redis.from_url(redis_url)
    await client.flushdb()
    await client.aclose()
    env = keel_env(
        tmp_path,
        postgres_url,
        REDIS_URL=redis_url,
        LOGIN_RATE_LIMIT="5/minute",
        LOGIN_ADDRESS_RATE_LIMIT="100000/minute",
        REGISTRATION_RATE_LIMIT="100000/minute",
    )
    with (
        keel_server(env=env, cwd=tmp_path, name="a", args=["--workers", "2"]) as first,
        keel_server(env=env, cwd=tmp_path, name="b", args=["--workers", "2"]) as second,
    ):
        async with (
            httpx.AsyncClient(base_url=first.base_url, timeout=30) as a,
            httpx.AsyncClient(base_url=second.base_url, timeout=30) as b,
        ):
            for trial in range(TRIALS):
                email = f"burst-{trial}@example.com"
                created = await a.post("/api/v1/users", json={"email": email, "password": PASSWORD})
                assert created.status_code == 201, created.text
                wrong = {"username": email, "password": "wrong password"}
                logins = await asyncio.gather(
                    *(c.post(LOGIN, data=wrong) for c in (a, b) * (BURST // 2))
                )
                statuses = sorted(r.status_code for r in logins)
                assert statuses == [401] * 5 + [429] * (BURST - 5), statuses

                resets = await asyncio.gather(
                    *(
                        c.post("/api/v1/auth/password-reset/request", json={"email": email})
                        for c in (a, b) * 10
                    )
                )
                assert {r.status_code for r in resets} == {202}
                assert await settled_reset_tokens(postgres_url, email, 3) == 3


async def test_serve_believes_forwarded_addresses_only_from_trusted_proxies(
    tmp_path: Path, sqlite_url: str
) -> None:
    await migrated(sqlite_url)

    def failures(server_url: str) -> list[int]:
        with httpx.Client(base_url=server_url, timeout=30) as client:
            return [
                client.post(
                    LOGIN,
                    data={"username": f"u{n}@example.com", "password": "wrong password"},
                    headers={"X-Forwarded-For": f"198.51.100.{n}"},
                ).status_code
                for n in range(6)
            ]

    def run(**extra: str) -> list[int]:
        env = keel_env(tmp_path, sqlite_url, LOGIN_ADDRESS_RATE_LIMIT="5/minute", **extra)
        with keel_server(env=env, cwd=tmp_path, args=["--workers", "2"]) as server:
            return failures(server.base_url)

    # From loopback, untrusted by default: the rotating header does not escape the limit.
    assert await asyncio.to_thread(run) == [401] * 5 + [429]
    # Loopback named as a proxy: each forwarded address is counted for itself.
    assert await asyncio.to_thread(run, TRUSTED_PROXIES="127.0.0.1") == [401] * 6


def test_invalid_trusted_proxies_stop_start_up(tmp_path: Path) -> None:
    env = keel_env(tmp_path, TRUSTED_PROXIES="10.0.0.0/8, proxy.internal")
    result = run_keel(["serve", "--port", "1"], env=env, cwd=tmp_path)
    assert_error(result, "TRUSTED_PROXIES", "proxy.internal")
