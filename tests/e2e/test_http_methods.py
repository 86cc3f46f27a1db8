"""The edges of the router: HEAD on every GET route, OPTIONS on every path, and no redirect for
a trailing slash (whose Location would come from the request's Host header).

The routes are read from the app itself, so a route added later is covered without a change
here (a new path parameter needs a value in ``PATH_VALUES``)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from starlette.routing import Route

from adapters.sqlalchemy.migrations import AlembicMigrator
from entrypoints.http.app import create_app
from tests.e2e.attachments_support import BlobStorage, upload
from tests.e2e.cli_support import keel_env, keel_server, sqlite_url_for
from tests.e2e.http_support import World, assert_envelope, make_settings, serving
from tests.support.migrated import migrated

ROUTED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# Answers that change from one request to the next, so that only their headers' names match.
VOLATILE = {"/metrics"}
HOSTILE_HOSTS = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}


@pytest.fixture
async def world(sqlite_url: str, blob_storage: BlobStorage) -> AsyncIterator[World]:
    """Nothing here depends on the database: SQLite is enough."""
    await migrated(sqlite_url)
    app = create_app(make_settings(sqlite_url, **blob_storage.settings))
    async with serving(app) as client:
        world = World(client, app)
        for name in ("alice", "bob"):
            await world.add(name)
        await world.add("root", admin=True)
        # More than a kilobyte of items, so that the list is compressed when asked.
        for number in range(12):
            await world.create("alice", f"item {number}", "x" * 100)
        yield world


def routes(app: FastAPI) -> Iterator[tuple[str, set[str]]]:
    """Every path template the app serves, with the methods its routes declare: those of the
    OpenAPI document, and the documentation's own."""
    served: dict[str, set[str]] = {}
    for path, operations in app.openapi()["paths"].items():
        served[path] = {method.upper() for method in operations} & set(ROUTED_METHODS)
    for route in app.routes:
        if isinstance(route, Route) and route.methods:
            served.setdefault(route.path, set()).update(route.methods & set(ROUTED_METHODS))
    yield from served.items()


def concrete(world: World, template: str) -> str:
    """The template with real values: alice's first item and alice's own id."""
    return re.sub(r"\{(\w+)\}", lambda m: world.ids[f"path:{m[1]}"], template)


async def path_values(world: World) -> None:
    page = await world.get("alice", "/api/v1/items")
    world.ids["path:item_id"] = page.json()["items"][0]["id"]
    world.ids["path:user_id"] = world.ids["alice"]
    attached = await upload(world, "alice", world.ids["path:item_id"], b"some text", "a.txt")
    world.ids["path:attachment_id"] = attached.json()["id"]
    sessions = await world.get("alice", "/api/v1/auth/sessions")
    world.ids["path:session_id"] = sessions.json()["items"][0]["id"]
    token = await world.client.post(
        "/api/v1/auth/tokens",
        json={"name": "methods", "scopes": ["items:read"]},
        headers=world.headers["alice"],
    )
    world.ids["path:token_id"] = token.json()["id"]


def expected_allow(methods: set[str]) -> set[str]:
    return methods | ({"HEAD"} if "GET" in methods else set()) | {"OPTIONS"}


# -- HEAD --------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
async def test_head_answers_every_get_route_as_get_does_without_a_body(
    world: World, encoding: str
) -> None:
    await path_values(world)
    checked = []
    for template, methods in routes(world.app):
        if "GET" not in methods:
            continue
        path = concrete(world, template)
        # The administrator may read every route, its own account's included.
        headers = {**world.headers["root"], "Accept-Encoding": encoding}
        got = await world.client.get(path, headers=headers)
        head = await world.client.head(path, headers=headers)
        assert head.status_code == got.status_code, (path, head.status_code, got.text)
        assert head.content == b"", path
        if template in VOLATILE:
            assert set(head.headers) == set(got.headers), path
        else:
            assert _without_request_id(head) == _without_request_id(got), path
        if encoding == "identity" and template not in VOLATILE:
            assert int(head.headers["content-length"]) == len(got.content), path
        checked.append(template)
    assert {"/health/live", "/api/v1/items/{item_id}", "/api/v1/users/me", "/docs"} <= set(checked)


async def test_head_of_a_list_is_compressed_like_its_get(world: World) -> None:
    headers = {**world.headers["alice"], "Accept-Encoding": "gzip"}
    head = await world.client.head("/api/v1/items", headers=headers)
    assert head.status_code == 200
    assert head.headers["content-encoding"] == "gzip"
    assert head.content == b""


async def test_head_of_an_error_is_its_envelope_headers_without_the_body(world: World) -> None:
    unknown = await world.client.head(
        "/api/v1/items/00000000-0000-0000-0000-000000000000", headers=world.headers["alice"]
    )
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/json"
    assert int(unknown.headers["content-length"]) > 0
    assert unknown.content == b""
    anonymous = await world.client.head("/api/v1/users/me")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    not_a_get = await world.client.head("/api/v1/auth/login")
    assert not_a_get.status_code == 405
    assert not_a_get.headers["allow"] == "POST, OPTIONS"
    assert not_a_get.content == b""


async def test_head_is_counted_under_its_own_method_and_route(world: World) -> None:
    for _ in range(3):
        assert (await world.client.head("/health/live")).status_code == 200
    text = (await world.client.get("/metrics")).text
    line = 'keel_http_requests_total{method="HEAD",route="/health/live",status="200"} 3.0'
    assert line in text.splitlines()


def test_head_over_a_real_server_keeps_the_connection_usable(tmp_path: Path) -> None:
    """The server frames HEAD's answer by its Content-Length without sending that many bytes:
    the next answer on the same connection must still be read correctly."""
    url = sqlite_url_for(tmp_path / "keel.db")
    asyncio.run(asyncio.to_thread(AlembicMigrator(url).upgrade, "head"))
    with (
        keel_server(env=keel_env(tmp_path, url), cwd=tmp_path) as server,
        httpx.Client(base_url=server.base_url) as client,
    ):
        for _ in range(3):
            for path in ("/openapi.json", "/health/ready", "/api/v1/users/me"):
                head = client.head(path)
                assert head.status_code == (401 if path.startswith("/api") else 200), path
                assert int(head.headers["content-length"]) > 0, path
                assert head.content == b""
            got = client.get("/health/live")
            assert got.status_code == 200, got.text
            assert got.json()["status"] == "ok"
        assert server.stop() == 0


# -- OPTIONS -----------------------------------------------------------------------------


async def test_options_is_204_naming_every_method_of_the_path(world: World) -> None:
    await path_values(world)
    checked = 0
    for template, methods in routes(world.app):
        response = await world.client.options(concrete(world, template))
        assert response.status_code == 204, (template, response.text)
        assert response.content == b""
        allowed = {part.strip() for part in response.headers["allow"].split(",")}
        # /users/me is also /users/{user_id}: the path serves the methods of both.
        assert expected_allow(methods) <= allowed, template
        assert allowed <= expected_allow(methods | _also_matching(world.app, template)), template
        assert response.headers["x-request-id"]
        checked += 1
    assert checked >= 15


async def test_options_of_an_unknown_path_is_404_in_the_envelope(world: World) -> None:
    response = await world.client.options("/api/v1/nothing-here")
    assert_envelope(response, 404, "HTTP_ERROR")
    assert "allow" not in response.headers


async def test_405_names_head_and_options_too(world: World) -> None:
    response = await world.client.put("/api/v1/users/me", headers=world.headers["alice"])
    assert_envelope(response, 405, "HTTP_ERROR")
    allowed = {part.strip() for part in response.headers["allow"].split(",")}
    assert allowed == {"GET", "HEAD", "PATCH", "DELETE", "OPTIONS"}


async def test_with_cors_a_preflight_is_cors_and_a_plain_options_is_allow(sqlite_url: str) -> None:
    await migrated(sqlite_url)
    origin = "https://app.example.com"
    app = create_app(make_settings(sqlite_url, cors_origins=origin))
    async with serving(app) as client:
        preflight = await client.options(
            "/api/v1/items", headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
        )
        plain = await client.options("/api/v1/items", headers={"Origin": origin})
        bare = await client.options("/api/v1/items")
    assert preflight.status_code == 200
    assert "allow" not in preflight.headers
    assert "POST" in preflight.headers["access-control-allow-methods"]
    for response in (plain, bare):
        assert response.status_code == 204
        assert response.headers["allow"] == "GET, HEAD, POST, OPTIONS"
    assert plain.headers["access-control-allow-origin"] == origin


async def test_options_from_an_untrusted_host_is_refused(sqlite_url: str) -> None:
    await migrated(sqlite_url)
    app = create_app(make_settings(sqlite_url, trusted_hosts="api.example.com"))
    async with serving(app) as client:
        response = await client.options("/api/v1/items", headers={"Host": "evil.example"})
        head = await client.head("/health/live", headers={"Host": "evil.example"})
    assert_envelope(response, 400, "HTTP_ERROR")
    assert head.status_code == 400


# -- trailing slashes --------------------------------------------------------------------


async def test_a_trailing_slash_is_a_404_never_a_redirect(world: World) -> None:
    """Before, `GET /health/live/` with `Host: evil.example` was a 307 to
    http://evil.example/health/live."""
    await path_values(world)
    checked = 0
    for template, methods in routes(world.app):
        path = concrete(world, template) + "/"
        for method in sorted(methods | {"HEAD", "OPTIONS"}):
            response = await world.client.request(
                method, path, headers={**world.headers["root"], **HOSTILE_HOSTS}
            )
            assert response.status_code == 404, (method, path, response.headers)
            assert "location" not in response.headers, (method, path)
            if method != "HEAD":
                assert_envelope(response, 404, "HTTP_ERROR")
            checked += 1
    assert checked >= 40
    # And the other way round: a slash is never added either.
    response = await world.client.get("/api/v1/users/me//", headers=HOSTILE_HOSTS)
    assert response.status_code == 404
    assert "location" not in response.headers


def _without_request_id(response: httpx.Response) -> list[tuple[str, str]]:
    return sorted((k, v) for k, v in response.headers.multi_items() if k != "x-request-id")


def _also_matching(app: FastAPI, template: str) -> set[str]:
    """The methods of the other templates the same concrete path matches (`/users/me` is
    also `/users/{user_id}`)."""
    extra: set[str] = set()
    for other, methods in routes(app):
        if other != template and re.fullmatch(re.sub(r"\{\w+\}", "[^/]+", other), template):
            extra |= methods
    return extra
