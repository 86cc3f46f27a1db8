"""Personal access tokens over HTTP, on SQLite and PostgreSQL: shown once and stored as a
digest, scoped, revoked at once, ended with the account's sessions, and last_used_at
written at most once a minute."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.http_support import PASSWORD, World, assert_envelope, bearer, login
from tests.support.sql import execute, rows, scalar

TOKENS = "/api/v1/auth/tokens"
ITEMS = "/api/v1/items"
ME = "/api/v1/users/me"
ALL_SCOPES = ["items:read", "items:write", "account:read"]


async def create_token(
    world: World, who: str = "alice", scopes: list[str] | None = None, **more: Any
) -> dict[str, Any]:
    body = {"name": "backup script", "scopes": scopes or ALL_SCOPES, **more}
    response = await world.client.post(TOKENS, json=body, headers=world.headers[who])
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_a_token_is_shown_once_and_stored_as_its_digest_only(
    world: World, migrated_url: str
) -> None:
    created = await create_token(world, scopes=["items:read"])
    token = created["token"]
    assert re.fullmatch(r"keel_pat_[A-Za-z0-9_-]{43}", token)
    assert created["prefix"] == token[:13]
    assert created["scopes"] == ["items:read"]
    assert created["last_used_at"] is None
    expires = datetime.fromisoformat(created["expires_at"])
    made = datetime.fromisoformat(created["created_at"])
    assert expires - made == timedelta(days=30)  # the default

    [row] = await rows(migrated_url, "SELECT * FROM personal_tokens")
    assert hashlib.sha256(token.encode()).hexdigest() in row
    assert not any(isinstance(value, str) and token[9:20] in value for value in row)
    listing = await world.get("alice", TOKENS)
    assert listing.status_code == 200
    [listed] = listing.json()["items"]
    assert "token" not in listed
    assert token not in listing.text
    assert listed["id"] == created["id"]
    # The trail names it, never holds it.
    trail = await rows(migrated_url, "SELECT type, details FROM security_events")
    assert ("token.created", trail[-1][1]) in trail
    assert all(token[9:] not in str(event) for event in trail)


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "scopes": ["items:delete"]},
        {"name": "x", "scopes": []},
        {"name": "x"},
        {"name": "", "scopes": ["items:read"]},
        {"name": "x" * 101, "scopes": ["items:read"]},
        {"name": "x", "scopes": ["items:read"], "expires_in_days": 0},
        {"name": "x", "scopes": ["items:read"], "expires_in_days": 366},
        {"name": "x\u0000", "scopes": ["items:read"]},
        {"name": "x", "scopes": ["items:read"], "extra": 1},
    ],
)
async def test_bad_token_requests_are_422(world: World, body: dict[str, Any]) -> None:
    response = await world.client.post(TOKENS, json=body, headers=world.headers["alice"])
    assert_envelope(response, 422, "VALIDATION_ERROR")
    assert (await world.get("alice", TOKENS)).json()["items"] == []


async def test_scopes_decide_what_a_token_reaches(world: World) -> None:
    item = await world.create("alice", "mine")
    reader = bearer((await create_token(world, scopes=["items:read"]))["token"])
    writer = bearer((await create_token(world, scopes=["items:write"]))["token"])
    account = bearer((await create_token(world, scopes=["account:read"]))["token"])
    client = world.client
    one = f"{ITEMS}/{item['id']}"

    assert (await client.get(ITEMS, headers=reader)).status_code == 200
    assert (await client.get(one, headers=reader)).status_code == 200
    assert (await client.head(one, headers=reader)).status_code == 200
    assert_envelope(await client.post(ITEMS, json={"title": "t"}, headers=reader), 403, "FORBIDDEN")
    assert_envelope(await client.get(ME, headers=reader), 403, "FORBIDDEN")

    assert (await client.post(ITEMS, json={"title": "t"}, headers=writer)).status_code == 201
    assert (await client.patch(one, json={"title": "u"}, headers=writer)).status_code == 200
    assert_envelope(await client.get(ITEMS, headers=writer), 403, "FORBIDDEN")
    assert (await client.delete(one, headers=writer)).status_code == 204

    me = await client.get(ME, headers=account)
    assert me.status_code == 200
    assert me.json()["id"] == world.ids["alice"]
    assert_envelope(await client.get(ITEMS, headers=account), 403, "FORBIDDEN")


async def test_an_unknown_or_malformed_token_is_401(world: World) -> None:
    real = (await create_token(world))["token"]
    for token in ("keel_pat_" + "A" * 43, "keel_pat_", real + "x", real[:-1]):
        response = await world.client.get(ITEMS, headers=bearer(token))
        assert_envelope(response, 401, "UNAUTHORIZED")
        assert response.headers["www-authenticate"] == "Bearer"


async def test_a_revoked_token_stops_at_once(world: World, migrated_url: str) -> None:
    created = await create_token(world)
    headers = bearer(created["token"])
    assert (await world.client.get(ITEMS, headers=headers)).status_code == 200
    # Another user cannot revoke it.
    response = await world.client.delete(f"{TOKENS}/{created['id']}", headers=world.headers["bob"])
    assert_envelope(response, 404, "NOT_FOUND")
    assert (await world.client.get(ITEMS, headers=headers)).status_code == 200

    response = await world.client.delete(
        f"{TOKENS}/{created['id']}", headers=world.headers["alice"]
    )
    assert response.status_code == 204
    assert_envelope(await world.client.get(ITEMS, headers=headers), 401, "UNAUTHORIZED")
    again = await world.client.delete(f"{TOKENS}/{created['id']}", headers=world.headers["alice"])
    assert_envelope(again, 404, "NOT_FOUND")
    assert (await world.get("alice", TOKENS)).json()["items"] == []
    revoked = await scalar(
        migrated_url, "SELECT count(*) FROM security_events WHERE type = 'token.revoked'"
    )
    assert revoked == 1


async def test_an_expired_token_is_401(world: World, migrated_url: str) -> None:
    created = await create_token(world, expires_in_days=1)
    headers = bearer(created["token"])
    assert (await world.client.get(ITEMS, headers=headers)).status_code == 200
    await execute(
        migrated_url,
        "UPDATE personal_tokens SET expires_at = :at",
        at=datetime.now(UTC) - timedelta(seconds=1),
    )
    assert_envelope(await world.client.get(ITEMS, headers=headers), 401, "UNAUTHORIZED")


async def test_deactivation_ends_the_tokens(world: World) -> None:
    headers = bearer((await create_token(world))["token"])
    response = await world.client.patch(
        f"/api/v1/users/{world.ids['alice']}",
        json={"is_active": False},
        headers=world.headers["root"],
    )
    assert response.status_code == 200, response.text
    assert_envelope(await world.client.get(ITEMS, headers=headers), 401, "UNAUTHORIZED")
    # Active again: the token stays ended (it was issued before the sessions ended).
    response = await world.client.patch(
        f"/api/v1/users/{world.ids['alice']}",
        json={"is_active": True},
        headers=world.headers["root"],
    )
    assert response.status_code == 200, response.text
    assert_envelope(await world.client.get(ITEMS, headers=headers), 401, "UNAUTHORIZED")


async def test_a_password_change_ends_the_tokens(world: World) -> None:
    headers = bearer((await create_token(world))["token"])
    response = await world.client.patch(
        ME,
        json={"password": "a whole new password", "current_password": PASSWORD},
        headers=world.headers["alice"],
    )
    assert response.status_code == 200, response.text
    assert_envelope(await world.client.get(ITEMS, headers=headers), 401, "UNAUTHORIZED")
    # A token made after the change works.
    fresh = (await login(world.client, "alice@example.com", "a whole new password")).json()
    world.headers["alice"] = bearer(fresh["access_token"])
    assert (
        await world.client.get(ITEMS, headers=bearer((await create_token(world))["token"]))
    ).status_code == 200


async def test_logging_out_everywhere_and_deletion_end_the_tokens(world: World) -> None:
    headers = bearer((await create_token(world))["token"])
    response = await world.client.post("/api/v1/auth/logout-all", headers=world.headers["alice"])
    assert response.status_code == 204
    assert_envelope(await world.client.get(ITEMS, headers=headers), 401, "UNAUTHORIZED")

    bobs = bearer((await create_token(world, "bob"))["token"])
    assert (await world.client.delete(ME, headers=world.headers["bob"])).status_code == 204
    assert_envelope(await world.client.get(ITEMS, headers=bobs), 401, "UNAUTHORIZED")


async def test_last_used_at_is_written_at_most_once_a_minute(
    world: World, migrated_url: str
) -> None:
    created = await create_token(world)
    headers = bearer(created["token"])
    for _ in range(3):
        assert (await world.client.get(ITEMS, headers=headers)).status_code == 200
    first = await scalar(migrated_url, "SELECT last_used_at FROM personal_tokens")
    assert first is not None
    for _ in range(3):
        assert (await world.client.get(ITEMS, headers=headers)).status_code == 200
    assert await scalar(migrated_url, "SELECT last_used_at FROM personal_tokens") == first

    # Older than a minute: the next use writes again.
    await execute(
        migrated_url,
        "UPDATE personal_tokens SET last_used_at = :at",
        at=datetime.now(UTC) - timedelta(minutes=2),
    )
    assert (await world.client.get(ITEMS, headers=headers)).status_code == 200
    [listed] = (await world.get("alice", TOKENS)).json()["items"]
    used = datetime.fromisoformat(listed["last_used_at"])
    assert datetime.now(UTC) - used < timedelta(seconds=30)
