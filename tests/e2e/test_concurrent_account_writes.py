"""Account guarantees under concurrent requests, against `keel serve --workers 2` on
PostgreSQL: no write undoes a security change, and no session outlives the change that
ended it. Each race is run for several rounds: one that hits one time in five is caught."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from tests.e2e.cli_support import Server, assert_ok, keel_env, keel_server, run_keel
from tests.support.migrated import copies
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.postgres

ROUNDS = 5
ATTACKERS = 6
OLD, NEW = "correct horse battery", "a brand new passphrase"
ME = "/api/v1/users/me"
ROOT = "root@example.com"


@pytest.fixture(scope="module")
def database(postgres_server: PostgresServer) -> Iterator[str]:
    name = f"keel_races_{uuid.uuid4().hex[:12]}"
    postgres_server.create_database(name)
    url = postgres_server.url(name)
    copies().copy(url)
    try:
        yield url
    finally:
        postgres_server.drop_database(name)


@pytest.fixture(scope="module")
def server(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    cwd = tmp_path_factory.mktemp("races")
    env = keel_env(
        cwd,
        database,
        DATABASE_POOL_SIZE="30",
        PASSWORD_HASH_THREADS="2",
        LOGIN_RATE_LIMIT="100000/minute",
        LOGIN_ADDRESS_RATE_LIMIT="100000/minute",
        REGISTRATION_RATE_LIMIT="100000/minute",
    )
    made = run_keel(
        ["create-superuser", "--email", ROOT, "--password-stdin"], env=env, cwd=cwd, stdin=OLD
    )
    assert_ok(made)
    with keel_server(env=env, cwd=cwd, args=["--workers", "2"]) as running:
        yield running


@pytest.fixture
async def client(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30, limits=limits) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(client: httpx.AsyncClient, email: str, password: str = OLD) -> httpx.Response:
    return await client.post("/api/v1/auth/login", data={"username": email, "password": password})


async def tokens(client: httpx.AsyncClient, email: str, password: str = OLD) -> dict[str, str]:
    response = await login(client, email, password)
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


async def new_user(client: httpx.AsyncClient) -> tuple[str, str]:
    email = f"u{uuid.uuid4().hex[:10]}@example.com"
    response = await client.post("/api/v1/users", json={"email": email, "password": OLD})
    assert response.status_code == 201, response.text
    return email, response.json()["id"]


async def while_attacked(
    client: httpx.AsyncClient, stolen: str, change: Callable[[], Awaitable[httpx.Response]]
) -> None:
    """``ATTACKERS`` clients send ``PATCH /users/me {"full_name"}`` in a loop with a stolen
    access token, before, during and after ``change``."""
    stop = asyncio.Event()

    async def attack(n: int) -> None:
        while not stop.is_set():
            response = await client.patch(ME, json={"full_name": f"x{n}"}, headers=bearer(stolen))
            assert response.status_code in (200, 401), response.text

    attackers = [asyncio.create_task(attack(n)) for n in range(ATTACKERS)]
    try:
        await asyncio.sleep(0.05)
        changed = await change()
        assert changed.status_code in (200, 204), changed.text
        await asyncio.sleep(0.3)
    finally:
        stop.set()
        await asyncio.gather(*attackers)


async def assert_signed_out(client: httpx.AsyncClient, pair: dict[str, str]) -> None:
    me = await client.get(ME, headers=bearer(pair["access_token"]))
    assert me.status_code == 401, me.text
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert refreshed.status_code == 401, refreshed.text


async def test_a_password_change_is_never_undone_by_concurrent_writes(
    client: httpx.AsyncClient,
) -> None:
    for _ in range(ROUNDS):
        email, _ = await new_user(client)
        stolen, own = await tokens(client, email), await tokens(client, email)
        body = {"password": NEW, "current_password": OLD}
        await while_attacked(
            client,
            stolen["access_token"],
            lambda body=body, own=own: client.patch(  # type: ignore[misc]
                ME, json=body, headers=bearer(own["access_token"])
            ),
        )
        assert (await login(client, email, OLD)).status_code == 401
        assert (await login(client, email, NEW)).status_code == 200
        await assert_signed_out(client, stolen)


async def test_a_password_reset_is_never_undone_by_concurrent_writes(
    client: httpx.AsyncClient, database: str
) -> None:
    for _ in range(ROUNDS):
        email, user_id = await new_user(client)
        stolen = await tokens(client, email)
        token = await stored_reset_token(database, user_id, email)
        body = {"token": token, "new_password": NEW}
        await while_attacked(
            client,
            stolen["access_token"],
            lambda body=body: client.post(  # type: ignore[misc]
                "/api/v1/auth/password-reset/confirm", json=body
            ),
        )
        assert (await login(client, email, OLD)).status_code == 401
        assert (await login(client, email, NEW)).status_code == 200
        await assert_signed_out(client, stolen)


async def test_logout_all_is_never_undone_by_concurrent_writes(client: httpx.AsyncClient) -> None:
    for _ in range(ROUNDS):
        email, _ = await new_user(client)
        stolen, own = await tokens(client, email), await tokens(client, email)
        await while_attacked(
            client,
            stolen["access_token"],
            lambda own=own: client.post(  # type: ignore[misc]
                "/api/v1/auth/logout-all", headers=bearer(own["access_token"])
            ),
        )
        await assert_signed_out(client, stolen)
        await assert_signed_out(client, own)


async def test_deactivation_is_never_undone_by_concurrent_writes(
    client: httpx.AsyncClient,
) -> None:
    root = await tokens(client, ROOT)
    for _ in range(ROUNDS):
        email, user_id = await new_user(client)
        stolen = await tokens(client, email)
        path = f"/api/v1/users/{user_id}"
        await while_attacked(
            client,
            stolen["access_token"],
            lambda path=path: client.patch(  # type: ignore[misc]
                path, json={"is_active": False}, headers=bearer(root["access_token"])
            ),
        )
        stored = await client.get(path, headers=bearer(root["access_token"]))
        assert stored.json()["is_active"] is False
        assert (await login(client, email)).status_code == 401
        await assert_signed_out(client, stolen)


async def test_a_demotion_is_never_undone_by_concurrent_writes(client: httpx.AsyncClient) -> None:
    root = await tokens(client, ROOT)
    for _ in range(ROUNDS):
        email, user_id = await new_user(client)
        path = f"/api/v1/users/{user_id}"
        promoted = await client.patch(
            path, json={"roles": ["admin"]}, headers=bearer(root["access_token"])
        )
        assert promoted.status_code == 200, promoted.text
        stolen = await tokens(client, email)
        await while_attacked(
            client,
            stolen["access_token"],
            lambda path=path: client.patch(  # type: ignore[misc]
                path, json={"roles": ["user"]}, headers=bearer(root["access_token"])
            ),
        )
        stored = await client.get(path, headers=bearer(root["access_token"]))
        assert stored.json()["roles"] == ["user"]
        await assert_signed_out(client, stolen)


async def test_no_login_that_checked_the_old_password_outlives_the_change(
    client: httpx.AsyncClient,
) -> None:
    """Logins with the old password are started before, during and after a password
    change: whichever of them succeeded, none of their sessions survives it."""
    for _ in range(ROUNDS):
        email, _ = await new_user(client)
        own = await tokens(client, email)

        async def old_login(n: int, email: str) -> httpx.Response:
            await asyncio.sleep(n * 0.01)
            return await login(client, email, OLD)

        async def change(own: dict[str, str]) -> httpx.Response:
            await asyncio.sleep(0.05)
            body = {"password": NEW, "current_password": OLD}
            return await client.patch(ME, json=body, headers=bearer(own["access_token"]))

        changed, *logins = await asyncio.gather(
            change(own), *(old_login(n, email) for n in range(12))
        )
        assert changed.status_code == 200, changed.text
        for response in logins:
            assert response.status_code in (200, 401), response.text
            if response.status_code == 200:
                await assert_signed_out(client, response.json())


async def test_no_login_or_refresh_outlives_a_deactivation_made_meanwhile(
    client: httpx.AsyncClient,
) -> None:
    root = await tokens(client, ROOT)
    for _ in range(ROUNDS):
        email, user_id = await new_user(client)
        pairs = [await tokens(client, email) for _ in range(6)]

        async def late_login(n: int, email: str) -> httpx.Response:
            await asyncio.sleep(n * 0.01)
            return await login(client, email)

        async def late_refresh(n: int, pair: dict[str, str]) -> httpx.Response:
            await asyncio.sleep(n * 0.01)
            body = {"refresh_token": pair["refresh_token"]}
            return await client.post("/api/v1/auth/refresh", json=body)

        async def deactivate(user_id: str) -> httpx.Response:
            await asyncio.sleep(0.03)
            return await client.patch(
                f"/api/v1/users/{user_id}",
                json={"is_active": False},
                headers=bearer(root["access_token"]),
            )

        done, *answers = await asyncio.gather(
            deactivate(user_id),
            *(late_login(n, email) for n in range(6)),
            *(late_refresh(n, pair) for n, pair in enumerate(pairs)),
        )
        assert done.status_code == 200, done.text
        for response in answers:
            assert response.status_code in (200, 401), response.text
            if response.status_code == 200:
                await assert_signed_out(client, response.json())
        for pair in pairs:
            assert (await client.get(ME, headers=bearer(pair["access_token"]))).status_code == 401


async def stored_reset_token(database: str, user_id: str, email: str) -> str:
    """A reset token as the mailed link would carry it, stored as the service stores it."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    connection = await asyncpg.connect(database.replace("+asyncpg", "", 1))
    try:
        await connection.execute(
            "INSERT INTO one_time_tokens"
            " (id, user_id, purpose, token_hash, email, created_at, expires_at, used_at)"
            " VALUES ($1, $2, 'password_reset', $3, $4, $5, $6, NULL)",
            uuid.uuid4(),
            uuid.UUID(user_id),
            hashlib.sha256(token.encode()).hexdigest(),
            email,
            now,
            now + timedelta(minutes=30),
        )
    finally:
        await connection.close()
    return token
