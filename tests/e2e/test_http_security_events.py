"""The audit trail over HTTP on a real database (SQLite and PostgreSQL): what each route
records, what the two reads answer, and that no secret is ever stored or shown."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.http_support import PASSWORD, World, assert_envelope, bearer, login
from tests.support.sql import rows

OWN = "/api/v1/users/me/security-events"
AUDIT = "/api/v1/audit-events"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"


async def stored(url: str, kind: str | None = None) -> list[dict[str, Any]]:
    """Every stored event, oldest first, with ids as text and details as given back."""
    found = await rows(
        url,
        "SELECT type, user_id, actor_id, address, user_agent, details FROM security_events"
        " ORDER BY at, id",
    )

    def text(value: object) -> str | None:
        return None if value is None else str(uuid.UUID(str(value)))

    return [
        {
            "type": t,
            "user_id": text(u),
            "actor_id": text(a),
            "address": address,
            "user_agent": agent,
            "details": json.loads(details),
        }
        for t, u, a, address, agent, details in found
        if kind is None or t == kind
    ]


async def all_text(url: str) -> str:
    return json.dumps(await rows(url, "SELECT * FROM security_events"), default=str)


async def test_each_route_records_its_event_once_with_actor_and_origin(
    world: World, migrated_url: str
) -> None:
    client, alice, root = world.client, world.ids["alice"], world.ids["root"]
    agent = {"User-Agent": BROWSER + "\x07"}
    wrong = await client.post(
        "/api/v1/auth/login", data={"username": "alice@example.com", "password": "not-it-9"}
    )
    assert_envelope(wrong, 401, "UNAUTHORIZED")
    pair = (await login(client, "alice@example.com")).json()
    logout = await client.post(
        "/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]}, headers=agent
    )
    assert logout.status_code == 204
    again = await client.post("/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 204  # already over: no second event
    new_password = "another long passphrase"
    changed = await client.patch(
        "/api/v1/users/me",
        json={"password": new_password, "current_password": PASSWORD},
        headers=world.headers["alice"],
    )
    assert changed.status_code == 200, changed.text
    token = (await login(client, "alice@example.com", new_password)).json()["access_token"]
    out = await client.post("/api/v1/auth/logout-all", headers=bearer(token))
    assert out.status_code == 204
    for body in ({"roles": ["user", "admin"]}, {"is_active": False}, {"is_active": True}):
        answer = await client.patch(
            f"/api/v1/users/{alice}", json=body, headers=world.headers["root"]
        )
        assert answer.status_code == 200, answer.text
    gone = await client.delete(f"/api/v1/users/{world.ids['bob']}", headers=world.headers["root"])
    assert gone.status_code == 204

    events = await stored(migrated_url)
    mine = [(e["type"], e["actor_id"]) for e in events if e["user_id"] == alice]
    assert mine == [
        ("user.registered", alice),
        ("login.succeeded", alice),
        ("login.failed", None),
        ("login.succeeded", alice),
        ("session.ended", alice),
        ("password.changed", alice),
        ("login.succeeded", alice),
        ("sessions.ended", alice),
        ("user.roles_changed", root),
        ("user.deactivated", root),
        ("user.activated", root),
    ]
    [ended] = [e for e in events if e["type"] == "session.ended"]
    assert ended["user_agent"] == BROWSER  # the bell character removed
    assert ended["address"] == "127.0.0.1"
    [deleted] = [e for e in events if e["type"] == "user.deleted"]
    assert (deleted["user_id"], deleted["actor_id"]) == (world.ids["bob"], root)
    everything = await all_text(migrated_url)
    for secret in (PASSWORD, new_password, "not-it-9", pair["refresh_token"], token):
        assert secret not in everything


async def test_a_refused_change_records_nothing(world: World, migrated_url: str) -> None:
    before = await stored(migrated_url)
    last_admin = await world.client.patch(
        f"/api/v1/users/{world.ids['root']}",
        json={"is_active": False},
        headers=world.headers["root"],
    )
    assert_envelope(last_admin, 409, "CONFLICT")
    weak = await world.client.patch(
        "/api/v1/users/me",
        json={"password": "short", "current_password": PASSWORD},
        headers=world.headers["alice"],
    )
    assert_envelope(weak, 422, "VALIDATION_ERROR")
    assert await stored(migrated_url) == before


async def test_own_events_are_yours_and_the_audit_trail_is_for_administrators(
    world: World,
) -> None:
    mine = await world.get("alice", OWN, user_id=world.ids["bob"])
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert {e["user_id"] for e in body["items"]} == {world.ids["alice"]}
    assert set(body) == {"items", "total", "page", "page_size", "has_next", "next_cursor"}
    assert_envelope(await world.get("alice", AUDIT), 403, "FORBIDDEN")
    assert_envelope(await world.client.get(OWN), 401, "UNAUTHORIZED")
    everyone = await world.get("root", AUDIT, type="user.registered")
    assert everyone.status_code == 200
    assert everyone.json()["total"] == 3
    by_user = await world.get("root", AUDIT, user_id=world.ids["bob"], type="login.succeeded")
    assert [e["user_id"] for e in by_user.json()["items"]] == [world.ids["bob"]]
    by_actor = await world.get("root", AUDIT, actor_id=world.ids["root"])
    assert {e["actor_id"] for e in by_actor.json()["items"]} == {world.ids["root"]}
    future = await world.get("root", AUDIT, since="2999-01-01T00:00:00Z")
    assert future.json()["items"] == []
    past = await world.get("root", AUDIT, until="2000-01-01T00:00:00")
    assert past.json()["total"] == 0


async def test_cursor_pages_walk_the_trail_newest_first(world: World) -> None:
    for _ in range(4):
        await login(world.client, "bob@example.com")
    first = await world.get("root", AUDIT, page_size=3)
    total = first.json()["total"]
    seen: list[dict[str, Any]] = list(first.json()["items"])
    cursor = first.json()["next_cursor"]
    pages = [first.json()["page"]]
    while cursor:
        answer = await world.get("root", AUDIT, page_size=3, cursor=cursor)
        assert answer.status_code == 200, answer.text
        seen += answer.json()["items"]
        pages.append(answer.json()["page"])
        cursor = answer.json()["next_cursor"]
        assert answer.json()["has_next"] == (cursor is not None)
    assert len(seen) == total == len({e["id"] for e in seen})
    assert [e["at"] for e in seen] == sorted((e["at"] for e in seen), reverse=True)
    assert pages == list(range(1, len(pages) + 1))
    by_offset = await world.get("root", AUDIT, page_size=3, page=2)
    assert by_offset.json()["items"] == seen[3:6]


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "forged"},
        {"cursor": "MjAyNXwxfDI"},
        {"cursor": "\u00e9t\u00e9"},
        {"cursor": "x" * 201},
        {"cursor": "MjAyNS0wMS0wMVQwMDowMDowMCswMDowMHxub3QtYS11dWlkfDI", "page_size": 5},
        {"page": 2, "cursor": "MjAyNS0wNS0wMVQwOTozMDowMCswMDowMHwwYzlkOGU3Znwy"},
        {"type": "login.hacked"},
        {"user_id": "not-a-uuid"},
        {"since": "yesterday"},
        {"until": "0.5"},
        {"until": "9999-12-31T23:59:59-23:59"},
        {"since": "0001-01-01T00:00:00+01:00"},
        {"since": "2025-13-01T00:00:00Z"},
        {"page_size": 101},
    ],
)
async def test_bad_queries_are_422_never_500(world: World, params: dict[str, Any]) -> None:
    for path in (OWN, AUDIT) if "user_id" not in params else (AUDIT,):
        assert_envelope(await world.get("root", path, **params), 422, "VALIDATION_ERROR")


async def test_no_route_changes_or_deletes_an_event(world: World, migrated_url: str) -> None:
    before = await stored(migrated_url)
    client = world.client
    for path in (OWN, AUDIT):
        for method in ("PATCH", "DELETE", "PUT", "POST"):
            answer = await client.request(method, path, headers=world.headers["root"])
            assert_envelope(answer, 405, "HTTP_ERROR")
        head = await client.head(path, headers=world.headers["root"])
        assert head.status_code == 200
        assert head.content == b""
    event_id = (await world.get("root", AUDIT)).json()["items"][0]["id"]
    single = await client.delete(f"{AUDIT}/{event_id}", headers=world.headers["root"])
    assert single.status_code in (404, 405)
    assert await stored(migrated_url) == before


async def test_answers_hold_no_secret(world: World) -> None:
    await world.client.post(
        "/api/v1/auth/login", data={"username": "alice@example.com", "password": "guess-1234"}
    )
    answer = await world.get("root", AUDIT, page_size=100)
    text = answer.text
    for secret in (PASSWORD, "guess-1234", "argon2"):
        assert secret not in text


async def test_the_document_describes_both_reads(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    own = document["paths"][OWN]["get"]
    audit = document["paths"][AUDIT]["get"]
    assert {"200", "401", "422", "503"} <= set(own["responses"])
    assert {"200", "401", "403", "422", "503"} <= set(audit["responses"])
    assert set(document["paths"][AUDIT]) == {"get"}
