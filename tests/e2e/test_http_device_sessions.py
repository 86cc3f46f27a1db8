"""Sessions per device over HTTP: listed, and ended from another device, on SQLite and
PostgreSQL; a session ended while it is being refreshed, on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from entrypoints.http.app import create_app
from tests.e2e.http_support import (
    PASSWORD,
    assert_envelope,
    bearer,
    make_settings,
    register,
    serving,
)
from tests.support.migrated import migrated
from tests.support.sql import rows, scalar

ME = "/api/v1/users/me"
SESSIONS = "/api/v1/auth/sessions"


async def sign_in(
    client: httpx.AsyncClient, user_agent: str, email: str = "ada@example.com"
) -> dict[str, str]:
    response = await client.post(
        "/api/v1/auth/login",
        data={"username": email, "password": PASSWORD},
        headers={"User-Agent": user_agent},
    )
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


async def refresh(client: httpx.AsyncClient, token: str, user_agent: str = "x") -> httpx.Response:
    return await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": token}, headers={"User-Agent": user_agent}
    )


async def listed(client: httpx.AsyncClient, access_token: str) -> list[dict[str, Any]]:
    response = await client.get(SESSIONS, headers=bearer(access_token))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def current_id(client: httpx.AsyncClient, access_token: str) -> str:
    [current] = [s for s in await listed(client, access_token) if s["current"]]
    session_id: str = current["id"]
    return session_id


async def test_sessions_are_listed_per_device_newest_first(client: httpx.AsyncClient) -> None:
    await register(client)
    phone = await sign_in(client, "Phone/1.0 \x1b[31mred\x07" + "p" * 400)
    laptop = await sign_in(client, "Laptop/2.0")
    sessions = await listed(client, laptop["access_token"])
    assert sessions[0]["user_agent"] == "Laptop/2.0"
    assert [s["current"] for s in sessions] == [True, False]
    assert set(sessions[0]) == {
        "id",
        "created_at",
        "last_used_at",
        "user_agent",
        "address",
        "current",
    }
    phone_entry = sessions[1]
    # Control characters removed, bounded.
    assert phone_entry["user_agent"].startswith("Phone/1.0 [31mred")
    assert "\x1b" not in phone_entry["user_agent"]
    assert "\x07" not in phone_entry["user_agent"]
    assert len(phone_entry["user_agent"]) == 256
    assert phone_entry["address"] == "127.0.0.1"
    assert phone_entry["created_at"] == phone_entry["last_used_at"]

    # A refresh keeps the session (the same id), moves last_used_at, and names its device.
    await asyncio.sleep(0.01)
    rotated = (await refresh(client, phone["refresh_token"], "Phone/1.1")).json()
    assert await current_id(client, rotated["access_token"]) == phone_entry["id"]
    [after] = [
        s for s in await listed(client, laptop["access_token"]) if s["id"] == phone_entry["id"]
    ]
    assert after["created_at"] == phone_entry["created_at"]
    assert after["last_used_at"] > phone_entry["last_used_at"]
    assert after["user_agent"] == "Phone/1.1"
    assert len(await listed(client, laptop["access_token"])) == 2


async def test_a_session_ended_from_another_device_stops_at_once(
    client: httpx.AsyncClient, migrated_url: str
) -> None:
    await register(client)
    phone = await sign_in(client, "Phone")
    laptop = await sign_in(client, "Laptop")
    phone_id = await current_id(client, phone["access_token"])
    assert (await client.get(ME, headers=bearer(phone["access_token"]))).status_code == 200

    response = await client.delete(f"{SESSIONS}/{phone_id}", headers=bearer(laptop["access_token"]))
    assert response.status_code == 204, response.text

    # The phone's access token stops at once, its refresh token too; the laptop goes on.
    assert_envelope(
        await client.get(ME, headers=bearer(phone["access_token"])), 401, "UNAUTHORIZED"
    )
    assert_envelope(await refresh(client, phone["refresh_token"]), 401, "UNAUTHORIZED")
    assert (await client.get(ME, headers=bearer(laptop["access_token"]))).status_code == 200
    assert [s["user_agent"] for s in await listed(client, laptop["access_token"])] == ["Laptop"]
    rotated = await refresh(client, laptop["refresh_token"])
    assert rotated.status_code == 200

    # Ending it again is a 404 and records nothing more: one session.ended, without secrets.
    again = await client.delete(
        f"{SESSIONS}/{phone_id}", headers=bearer(rotated.json()["access_token"])
    )
    assert_envelope(again, 404, "NOT_FOUND")
    events = await rows(
        migrated_url, "SELECT details FROM security_events WHERE type = 'session.ended'"
    )
    assert len(events) == 1
    assert phone_id in events[0][0]


async def test_another_users_session_is_not_found(client: httpx.AsyncClient) -> None:
    await register(client)
    await register(client, "bob@example.com")
    ada = await sign_in(client, "Ada's")
    bob = await sign_in(client, "Bob's", "bob@example.com")
    ada_id = await current_id(client, ada["access_token"])
    response = await client.delete(f"{SESSIONS}/{ada_id}", headers=bearer(bob["access_token"]))
    assert_envelope(response, 404, "NOT_FOUND")
    assert (await client.get(ME, headers=bearer(ada["access_token"]))).status_code == 200
    assert [s["id"] for s in await listed(client, bob["access_token"])] != [ada_id]
    unknown = "00000000-0000-4000-8000-000000000000"
    assert_envelope(
        await client.delete(f"{SESSIONS}/{unknown}", headers=bearer(bob["access_token"])),
        404,
        "NOT_FOUND",
    )
    assert_envelope(
        await client.delete(f"{SESSIONS}/not-a-uuid", headers=bearer(bob["access_token"])),
        422,
        "VALIDATION_ERROR",
    )
    assert_envelope(await client.get(SESSIONS), 401, "UNAUTHORIZED")


@pytest.fixture
async def pg_client(postgres_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    await migrated(postgres_url)
    app = create_app(make_settings(postgres_url, database_pool_size=20))
    async with serving(app) as client:
        yield client, postgres_url


@pytest.mark.postgres
async def test_ending_a_session_while_it_is_refreshed_never_leaves_it_live(
    pg_client: tuple[httpx.AsyncClient, str],
) -> None:
    client, url = pg_client
    await register(client)
    laptop = await sign_in(client, "Laptop")
    for trial in range(15):
        phone = await sign_in(client, f"Phone {trial}")
        phone_id = await current_id(client, phone["access_token"])
        ended, refreshed = await asyncio.gather(
            client.delete(f"{SESSIONS}/{phone_id}", headers=bearer(laptop["access_token"])),
            refresh(client, phone["refresh_token"]),
        )
        assert ended.status_code == 204, ended.text
        assert refreshed.status_code in (200, 401), refreshed.text
        live = await scalar(
            url,
            "SELECT count(*) FROM refresh_sessions WHERE family_id = :f AND revoked_at IS NULL",
            f=phone_id,
        )
        assert live == 0, f"trial {trial}: a session outlived its end"
        if refreshed.status_code == 200:
            pair = refreshed.json()
            assert_envelope(await refresh(client, pair["refresh_token"]), 401, "UNAUTHORIZED")
            response = await client.get(ME, headers=bearer(pair["access_token"]))
            assert_envelope(response, 401, "UNAUTHORIZED")
    assert (await client.get(ME, headers=bearer(laptop["access_token"]))).status_code == 200
