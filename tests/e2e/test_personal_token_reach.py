"""Where a personal access token reaches, table-driven over every route of the app: a
route that is neither listed here as taking a scope nor as public must refuse a token
that holds every scope (401 or 403), so a new route cannot let one through unnoticed."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from entrypoints.http.app import create_app
from entrypoints.http.dependencies import current_user
from tests.e2e.http_support import World, assert_envelope, bearer, make_settings, serving
from tests.support.migrated import migrated
from tests.support.sql import scalar

ALL_SCOPES = ["items:read", "items:write", "account:read"]
# The routes a personal token may reach, and the scope each requires.
SCOPED = {
    ("GET", "/api/v1/items"): "items:read",
    ("GET", "/api/v1/items/{item_id}"): "items:read",
    ("POST", "/api/v1/items"): "items:write",
    ("PATCH", "/api/v1/items/{item_id}"): "items:write",
    ("DELETE", "/api/v1/items/{item_id}"): "items:write",
    ("GET", "/api/v1/users/me"): "account:read",
    ("GET", "/api/v1/items/{item_id}/attachments"): "items:read",
    ("GET", "/api/v1/items/{item_id}/attachments/{attachment_id}"): "items:read",
    ("POST", "/api/v1/items/{item_id}/attachments"): "items:write",
    ("DELETE", "/api/v1/items/{item_id}/attachments/{attachment_id}"): "items:write",
}
# Routes that take no bearer at all (a token sent to them is not looked at).
PUBLIC_PATHS = {
    "/api/v1/users": {"POST"},
    "/api/v1/auth/login": {"POST"},
    "/api/v1/auth/refresh": {"POST"},
    "/api/v1/auth/logout": {"POST"},
    "/api/v1/auth/password-reset/request": {"POST"},
    "/api/v1/auth/password-reset/confirm": {"POST"},
    "/api/v1/auth/verify": {"POST"},
    # The login's second step: its credential is the `mfa_token` in the body.
    "/api/v1/auth/mfa/verify": {"POST"},
    "/health/live": {"GET"},
    "/health/ready": {"GET"},
    "/metrics": {"GET"},
    "/": {"GET"},
    "/verify-email": {"GET", "POST"},
    "/reset-password": {"GET", "POST"},
}
PUBLIC_PREFIXES = ("/docs", "/redoc", "/assets/", "/openapi.json", "/asyncapi.json")
SOME_ID = "00000000-0000-4000-8000-000000000000"


def _routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every route, through included routers however this FastAPI keeps them."""
    for route in routes:
        context = getattr(route, "include_context", None)
        if context is not None:
            yield from _routes(context.included_router.routes, prefix + context.prefix)
        else:
            yield prefix + route.path, route


def _needs_a_user(dependant: Dependant) -> bool:
    return any(d.call is current_user or _needs_a_user(d) for d in dependant.dependencies)


def _is_public(method: str, path: str) -> bool:
    return method in PUBLIC_PATHS.get(path, set()) or path.startswith(PUBLIC_PREFIXES)


def api_routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    found = [
        (method, path, route)
        for path, route in _routes(app.routes)
        if isinstance(route, APIRoute)
        for method in sorted(route.methods or ())
    ]
    assert len(found) > 30  # the walk found the routers
    return found


async def _call(client: httpx.AsyncClient, method: str, path: str, token: str) -> httpx.Response:
    url = re.sub(r"\{[^}]+\}", SOME_ID, path)
    body = {} if method in ("POST", "PATCH", "PUT") else None
    return await client.request(method, url, json=body, headers=bearer(token))


async def test_every_route_outside_the_scoped_ones_refuses_a_personal_token(
    world: World,
) -> None:
    created = await world.client.post(
        "/api/v1/auth/tokens",
        json={"name": "everything", "scopes": ALL_SCOPES},
        headers=world.headers["root"],  # even an administrator's token
    )
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    checked = []
    for method, path, route in api_routes(world.app):
        if (method, path) in SCOPED:
            assert _needs_a_user(route.dependant), path
            answer = await _call(world.client, method, path, token)
            assert answer.status_code not in (401, 403), (method, path, answer.text)
            continue
        if _is_public(method, path):
            # Listed as public only while it really reads no bearer.
            assert not _needs_a_user(route.dependant), (method, path)
            continue
        answer = await _call(world.client, method, path, token)
        assert answer.status_code in (401, 403), (method, path, answer.status_code)
        assert_envelope(
            answer, answer.status_code, "FORBIDDEN" if answer.status_code == 403 else "UNAUTHORIZED"
        )
        checked.append((method, path))
    # The ones the contract names, at least.
    for must in [
        ("GET", "/api/v1/auth/sessions"),
        ("DELETE", "/api/v1/auth/sessions/{session_id}"),
        ("POST", "/api/v1/auth/tokens"),
        ("GET", "/api/v1/auth/tokens"),
        ("DELETE", "/api/v1/auth/tokens/{token_id}"),
        ("POST", "/api/v1/auth/logout-all"),
        ("PATCH", "/api/v1/users/me"),
        ("DELETE", "/api/v1/users/me"),
        ("GET", "/api/v1/users"),
        ("GET", "/api/v1/users/{user_id}"),
        ("PATCH", "/api/v1/users/{user_id}"),
        ("DELETE", "/api/v1/users/{user_id}"),
        ("GET", "/api/v1/audit-events"),
        ("GET", "/api/v1/users/me/security-events"),
    ]:
        assert must in checked, must
    # Nothing it was refused changed the account: still there, still an administrator.
    me = await world.client.get("/api/v1/users/me", headers=world.headers["root"])
    assert me.status_code == 200
    assert "admin" in me.json()["roles"]


async def test_each_scoped_route_refuses_a_token_without_its_scope(world: World) -> None:
    item = await world.create("alice", "mine")
    for scope in ALL_SCOPES:
        created = await world.client.post(
            "/api/v1/auth/tokens",
            json={"name": scope, "scopes": [s for s in ALL_SCOPES if s != scope]},
            headers=world.headers["alice"],
        )
        token = created.json()["token"]
        for (method, path), required in SCOPED.items():
            if required != scope:
                continue
            url = path.replace("{item_id}", item["id"])
            body = {"title": "t"} if method in ("POST", "PATCH") else None
            answer = await world.client.request(method, url, json=body, headers=bearer(token))
            assert_envelope(answer, 403, "FORBIDDEN")
    assert (await world.get("alice", f"/api/v1/items/{item['id']}")).status_code == 200


@pytest.fixture
async def pg_world(postgres_url: str) -> AsyncIterator[tuple[World, str]]:
    await migrated(postgres_url)
    app = create_app(make_settings(postgres_url, database_pool_size=30, database_max_overflow=20))
    async with serving(app) as client:
        world = World(client, app)
        await world.add("alice")
        yield world, postgres_url


@pytest.mark.postgres
async def test_a_token_revoked_while_in_use_stops_once_revoked(
    pg_world: tuple[World, str],
) -> None:
    world, url = pg_world
    for trial in range(8):
        created = await world.client.post(
            "/api/v1/auth/tokens",
            json={"name": f"trial {trial}", "scopes": ["items:read"]},
            headers=world.headers["alice"],
        )
        token, token_id = created.json()["token"], created.json()["id"]
        headers = bearer(token)

        async def use(headers: dict[str, str]) -> int:
            return (await world.client.get("/api/v1/items", headers=headers)).status_code

        async def revoke(token_id: str, delay: float) -> int:
            await asyncio.sleep(delay)
            answer = await world.client.delete(
                f"/api/v1/auth/tokens/{token_id}", headers=world.headers["alice"]
            )
            return answer.status_code

        *uses, revoked = await asyncio.gather(
            *(use(headers) for _ in range(20)), revoke(token_id, 0.002 * (trial % 4))
        )
        assert revoked == 204
        assert set(uses) <= {200, 401}, uses
        # Once the revocation answered, no use gets through.
        after = await asyncio.gather(*(use(headers) for _ in range(10)))
        assert set(after) == {401}, after
        events = await scalar(
            url,
            "SELECT count(*) FROM security_events"
            " WHERE type = 'token.revoked' AND details LIKE :id",
            id=f"%{token_id}%",
        )
        assert events == 1
