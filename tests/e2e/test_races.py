"""Real concurrent requests against PostgreSQL: the rules hold when requests race."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from dependency_injector import providers
from fastapi import FastAPI

from application.use_cases.accounts.create_superuser import CreateSuperuserCommand
from entrypoints.http.app import create_app
from tests.e2e.http_support import (
    PASSWORD,
    access_token,
    assert_envelope,
    bearer,
    login,
    make_settings,
    serving,
)
from tests.support.hashing import PausingHasher
from tests.support.migrated import migrated
from tests.support.sql import execute, scalar

pytestmark = pytest.mark.postgres

USERS = "/api/v1/users"
ITEMS = "/api/v1/items"


@pytest.fixture
async def url(postgres_url: str) -> str:
    await migrated(postgres_url)
    return postgres_url


@pytest.fixture
async def app(url: str) -> FastAPI:
    # Enough connections for every request in flight, so none waits on the pool.
    return create_app(
        make_settings(
            url,
            database_pool_size=30,
            database_max_overflow=40,
            password_hash_threads=8,
            password_hash_queue_size=100,  # fifty at once, none refused
        )
    )


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app) as client:
        yield client


async def warm_pool(client: httpx.AsyncClient, connections: int = 10) -> None:
    """Open connections ahead, so that racing requests do not differ by a connect."""
    await asyncio.gather(*(client.get("/health/ready") for _ in range(connections)))


async def add_admin(app: FastAPI, client: httpx.AsyncClient, email: str) -> tuple[str, str]:
    """A new active administrator: its id and an access token."""
    user = await app.state.container.create_superuser().execute(
        CreateSuperuserCommand(email=email, password=PASSWORD)
    )
    return str(user.id), await access_token(client, email)


async def add_user(client: httpx.AsyncClient, email: str) -> tuple[str, dict[str, str]]:
    response = await client.post(USERS, json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return response.json()["id"], bearer(await access_token(client, email))


async def test_one_email_registered_by_fifty_requests_at_once_is_stored_once(
    client: httpx.AsyncClient, url: str
) -> None:
    emails = ["Race@Example.com", "race@example.com", " RACE@example.COM "] * 17
    responses = await asyncio.gather(
        *(client.post(USERS, json={"email": e, "password": PASSWORD}) for e in emails[:50])
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 49, statuses
    for response in responses:
        if response.status_code == 409:
            assert_envelope(response, 409, "CONFLICT")
    [created] = [r.json() for r in responses if r.status_code == 201]
    assert created["email"] == "race@example.com"
    assert await scalar(url, "SELECT count(*) FROM users") == 1
    assert (await login(client, "race@example.com")).status_code == 200


async def test_one_refresh_token_spent_twenty_times_at_once_wins_at_most_once(
    client: httpx.AsyncClient,
) -> None:
    await add_user(client, "ada@example.com")
    response = await login(client, "ada@example.com")
    refresh_token = response.json()["refresh_token"]

    responses = await asyncio.gather(
        *(
            client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})
            for _ in range(20)
        )
    )
    winners = [r for r in responses if r.status_code == 200]
    assert len(winners) <= 1
    for loser in (r for r in responses if r.status_code != 200):
        assert_envelope(loser, 401, "UNAUTHORIZED")
    # The reuse ended the whole family: the token the winner got is dead as well.
    for winner in winners:
        again = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": winner.json()["refresh_token"]}
        )
        assert_envelope(again, 401, "UNAUTHORIZED")
    replay = await client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})
    assert_envelope(replay, 401, "UNAUTHORIZED")


async def test_concurrent_patches_of_one_item_leave_one_whole_body(
    client: httpx.AsyncClient,
) -> None:
    _, headers = await add_user(client, "ada@example.com")
    created = await client.post(ITEMS, json={"title": "start"}, headers=headers)
    assert created.status_code == 201, created.text
    path = f"{ITEMS}/{created.json()['id']}"
    bodies = [{"title": "A", "description": "a"}, {"title": "B", "description": "b"}] * 10

    responses = await asyncio.gather(
        *(client.patch(path, json=body, headers=headers) for body in bodies)
    )
    for response, body in zip(responses, bodies, strict=True):
        assert response.status_code == 200, response.text
        assert {k: response.json()[k] for k in body} == body
    stored = (await client.get(path, headers=headers)).json()
    assert {"title": stored["title"], "description": stored["description"]} in bodies


async def test_deleting_a_user_while_their_items_are_created_leaves_no_orphan_and_no_5xx(
    client: httpx.AsyncClient, url: str
) -> None:
    for n in range(4):
        await _delete_while_creating(client, url, f"ada{n}@example.com")
    assert await scalar(url, "SELECT count(*) FROM users") == 0


async def _delete_while_creating(client: httpx.AsyncClient, url: str, email: str) -> None:
    user_id, headers = await add_user(client, email)

    async def create(n: int) -> httpx.Response:
        # Spread over the time the deletion takes, so that some creations are
        # authenticated before it commits and insert after.
        await asyncio.sleep(n * 0.002)
        return await client.post(ITEMS, json={"title": f"item {n}"}, headers=headers)

    deletion, *creations = await asyncio.gather(
        client.delete(f"{USERS}/me", headers=headers), *(create(n) for n in range(20))
    )
    assert deletion.status_code == 204, deletion.text
    for response in creations:
        if response.status_code == 401:
            assert_envelope(response, 401, "UNAUTHORIZED")
        elif response.status_code == 404:
            assert_envelope(response, 404, "NOT_FOUND")
        else:
            assert response.status_code == 201, response.text
    orphans = "SELECT count(*) FROM items WHERE owner_id = :owner"
    assert await scalar(url, orphans, owner=uuid.UUID(user_id)) == 0


async def _two_admins_race(
    app: FastAPI, client: httpx.AsyncClient, url: str, make_request: Any, rounds: int
) -> None:
    """Two active administrators act on each other at the same moment, ``rounds`` times:
    exactly one wins and one active administrator remains. The other is refused as the
    last administrator (409), or, when the first change was complete before it was even
    authenticated, its caller is no longer an administrator or no longer exists (401).
    Most rounds must be real races, ending in the 409."""
    await warm_pool(client)
    refusals: list[int] = []
    for n in range(rounds):
        first = await add_admin(app, client, f"first{n}@example.com")
        second = await add_admin(app, client, f"second{n}@example.com")
        admins = {"role": "admin", "is_active": "true"}
        before = await client.get(USERS, params=admins, headers=bearer(first[1]))
        assert before.json()["total"] == 2, before.text

        responses = await asyncio.gather(
            make_request(first[1], second[0]), make_request(second[1], first[0])
        )
        won = [r.status_code < 300 for r in responses]
        assert won.count(True) == 1, [r.text for r in responses]
        winner, loser = (first, responses[1]) if won[0] else (second, responses[0])
        assert loser.status_code in (401, 409), loser.text
        assert_envelope(
            loser, loser.status_code, "CONFLICT" if loser.status_code == 409 else "UNAUTHORIZED"
        )
        refusals.append(loser.status_code)

        after = await client.get(USERS, params=admins, headers=bearer(winner[1]))
        assert after.status_code == 200, after.text
        assert [u["id"] for u in after.json()["items"]] == [winner[0]]
        # Retire the survivor, so that the next round starts with exactly two again.
        await execute(url, "UPDATE users SET is_active = false WHERE id = :id", id=winner[0])
    assert refusals.count(409) >= rounds // 2, refusals


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    app: FastAPI, client: httpx.AsyncClient, url: str
) -> None:
    def demote(token: str, target: str) -> Any:
        return client.patch(f"{USERS}/{target}", json={"roles": ["user"]}, headers=bearer(token))

    await _two_admins_race(app, client, url, demote, rounds=10)


async def test_two_admins_deleting_each_other_at_once_leave_one_admin(
    app: FastAPI, client: httpx.AsyncClient, url: str
) -> None:
    def delete(token: str, target: str) -> Any:
        return client.delete(f"{USERS}/{target}", headers=bearer(token))

    await _two_admins_race(app, client, url, delete, rounds=10)


async def test_ten_patches_with_one_if_match_at_once_let_exactly_one_through(
    client: httpx.AsyncClient,
) -> None:
    _, headers = await add_user(client, "ada@example.com")
    await warm_pool(client)
    created = await client.post(ITEMS, json={"title": "start"}, headers=headers)
    assert created.status_code == 201, created.text
    path, etag = f"{ITEMS}/{created.json()['id']}", created.headers["etag"]
    for round_ in range(3):
        bodies = [{"title": f"t{round_}.{n}", "description": f"d{round_}.{n}"} for n in range(10)]
        conditional = {**headers, "If-Match": etag}
        responses = await asyncio.gather(
            *(client.patch(path, json=body, headers=conditional) for body in bodies)
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200] + [412] * 9, statuses
        for response in responses:
            if response.status_code == 412:
                assert_envelope(response, 412, "PRECONDITION_FAILED")
        [(winner, body)] = [
            (r, b) for r, b in zip(responses, bodies, strict=True) if r.status_code == 200
        ]
        stored = await client.get(path, headers=headers)
        assert {k: stored.json()[k] for k in body} == body
        assert stored.json() == winner.json()
        assert stored.headers["etag"] == winner.headers["etag"] != etag
        etag = winner.headers["etag"]


async def test_patches_of_different_fields_at_once_without_if_match_all_survive(
    client: httpx.AsyncClient,
) -> None:
    _, headers = await add_user(client, "ada@example.com")
    await warm_pool(client)
    created = await client.post(ITEMS, json={"title": "start"}, headers=headers)
    assert created.status_code == 201, created.text
    path = f"{ITEMS}/{created.json()['id']}"
    for n in range(15):
        title, description = await asyncio.gather(
            client.patch(path, json={"title": f"title {n}"}, headers=headers),
            client.patch(path, json={"description": f"description {n}"}, headers=headers),
        )
        assert title.status_code == 200, title.text
        assert description.status_code == 200, description.text
        stored = (await client.get(path, headers=headers)).json()
        assert (stored["title"], stored["description"]) == (f"title {n}", f"description {n}")


@pytest.mark.parametrize("change", ["password", "deactivation", "logout-all", "demotion"])
async def test_a_login_that_checked_the_password_before_a_change_gets_no_session(
    url: str, change: str
) -> None:
    app = create_app(make_settings(url))
    hasher = PausingHasher()
    app.state.container.password_hasher.override(providers.Object(hasher))
    async with serving(app) as client:
        _, root = await add_admin(app, client, "root@example.com")
        user_id, own = await add_user(client, "ada@example.com")
        if change == "demotion":
            promoted = await client.patch(
                f"{USERS}/{user_id}", json={"roles": ["admin"]}, headers=bearer(root)
            )
            assert promoted.status_code == 200, promoted.text
            own = bearer(await access_token(client, "ada@example.com"))
        hasher.arm()
        held = asyncio.create_task(login(client, "ada@example.com"))
        await hasher.verified.wait()  # the right password, checked; the session not yet stored
        changed = await {
            "password": lambda: client.patch(
                f"{USERS}/me",
                json={"password": "a brand new passphrase", "current_password": PASSWORD},
                headers=own,
            ),
            "deactivation": lambda: client.patch(
                f"{USERS}/{user_id}", json={"is_active": False}, headers=bearer(root)
            ),
            "logout-all": lambda: client.post("/api/v1/auth/logout-all", headers=own),
            "demotion": lambda: client.patch(
                f"{USERS}/{user_id}", json={"roles": ["user"]}, headers=bearer(root)
            ),
        }[change]()
        assert changed.status_code in (200, 204), changed.text
        hasher.release.set()
        assert_envelope(await held, 401, "UNAUTHORIZED")
        assert (
            await scalar(
                url,
                "SELECT count(*) FROM refresh_sessions WHERE user_id = :u AND revoked_at IS NULL",
                u=uuid.UUID(user_id),
            )
            == 0
        )
