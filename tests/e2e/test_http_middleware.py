"""Compression, cross-origin requests, trusted hosts and the request body limit."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest

from entrypoints.http.app import create_app
from tests.e2e.http_support import access_token, assert_envelope, bearer, make_settings, register
from tests.e2e.http_support import serving as serving_app
from tests.support.migrated import copies

Serve = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]
ORIGIN = "https://app.example.com"


@pytest.fixture
def migrated_url(sqlite_url: str) -> str:
    """The middleware does not touch the database: SQLite is enough."""
    copies().copy(sqlite_url)
    return sqlite_url


@pytest.fixture
def serve(migrated_url: str) -> Serve:
    """The app with some settings changed, on a migrated database."""

    @asynccontextmanager
    async def serving(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        async with serving_app(create_app(make_settings(migrated_url, **overrides))) as client:
            yield client

    return serving


async def _item_count(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    response = await client.get("/api/v1/items", headers=headers)
    assert response.status_code == 200, response.text
    total: int = response.json()["total"]
    return total


async def _signed_in(client: httpx.AsyncClient) -> dict[str, str]:
    await register(client)
    return bearer(await access_token(client))


# -- compression -------------------------------------------------------------------------


async def test_large_answers_are_gzipped_for_clients_that_accept_it(serve: Serve) -> None:
    async with serve() as client:
        headers = await _signed_in(client)
        for n in range(5):
            body = {"title": f"item {n}", "description": "lorem ipsum " * 40}
            assert (await client.post("/api/v1/items", json=body, headers=headers)).is_success

        # httpx decodes transparently: read the raw bytes to see what travelled.
        request = client.build_request(
            "GET", "/api/v1/items", headers={**headers, "Accept-Encoding": "gzip"}
        )
        response = await client.send(request, stream=True)
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
        await response.aclose()
        assert response.headers["content-encoding"] == "gzip"
        assert "accept-encoding" in response.headers["vary"].lower()
        page = json.loads(gzip.decompress(raw))
        assert len(raw) < len(json.dumps(page)) / 3
        assert [item["title"] for item in page["items"]] == [f"item {n}" for n in range(4, -1, -1)]
        assert response.headers["x-request-id"]

        plain = await client.get(
            "/api/v1/items", headers={**headers, "Accept-Encoding": "identity"}
        )
        assert "content-encoding" not in plain.headers
        assert plain.json() == page
        # Caches must know the answer would have differed for a client that accepts gzip.
        assert plain.headers["vary"] == "Accept-Encoding"
        unasked = await client.get("/api/v1/items", headers={**headers, "Accept-Encoding": ""})
        assert "content-encoding" not in unasked.headers
        assert unasked.headers["vary"] == "Accept-Encoding"


async def test_small_answers_are_not_compressed(serve: Serve) -> None:
    async with serve() as client:
        response = await client.get("/health/live", headers={"Accept-Encoding": "gzip"})
        plain = await client.get("/health/live", headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert (plain.status_code, plain.json()) == (200, response.json())
    assert "vary" not in plain.headers


# -- CORS --------------------------------------------------------------------------------


async def test_a_preflight_from_an_allowed_origin_is_answered(serve: Serve) -> None:
    async with serve(cors_origins=f"{ORIGIN},https://admin.example.com") as client:
        response = await client.options(
            "/api/v1/items/00000000-0000-0000-0000-000000000001",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "PATCH",
                "Access-Control-Request-Headers": "authorization, content-type, if-match",
            },
        )
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "PATCH" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "if-match"} <= {h.strip() for h in allowed.split(",")}
    assert response.headers["access-control-max-age"] == "600"
    assert "access-control-allow-credentials" not in response.headers


@pytest.mark.parametrize(
    ("origin", "method", "refused"),
    [
        ("https://evil.example.net", "GET", ["origin"]),
        (ORIGIN, "PUT", ["method"]),
    ],
)
async def test_a_refused_preflight_is_400_in_the_envelope(
    serve: Serve, origin: str, method: str, refused: list[str]
) -> None:
    async with serve(cors_origins=ORIGIN) as client:
        response = await client.options(
            "/api/v1/items",
            headers={"Origin": origin, "Access-Control-Request-Method": method},
        )
    error = assert_envelope(response, 400, "HTTP_ERROR")
    assert error["details"] == {"refused": refused}
    if "origin" in refused:
        assert "access-control-allow-origin" not in response.headers


async def test_answers_to_an_allowed_origin_carry_the_cors_headers(serve: Serve) -> None:
    async with serve(cors_origins=ORIGIN) as client:
        allowed = await client.get("/api/v1/users/me", headers={"Origin": ORIGIN})
        other = await client.get("/api/v1/users/me", headers={"Origin": "https://evil.example"})
    # Even an error answer must be readable by the allowed page.
    assert allowed.status_code == 401
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    exposed = allowed.headers["access-control-expose-headers"].lower()
    assert "x-request-id" in exposed
    assert "www-authenticate" in exposed
    assert "access-control-allow-origin" not in other.headers


async def test_without_cors_origins_no_origin_is_allowed(serve: Serve) -> None:
    async with serve() as client:
        preflight = await client.options(
            "/api/v1/items", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}
        )
        simple = await client.get("/health/live", headers={"Origin": ORIGIN})
    # Answered as any OPTIONS is (the methods of the path), with nothing that allows an origin.
    assert preflight.status_code == 204
    assert not [name for name in preflight.headers if name.startswith("access-control-")]
    assert "access-control-allow-origin" not in simple.headers


# -- trusted hosts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("api.example.com", True),
        ("API.Example.com:8443", True),
        ("eu.example.org", True),
        ("example.org", False),
        ("evil.example.net", False),
        ("api.example.com.evil.net", False),
        ("", False),
    ],
)
async def test_only_trusted_hosts_are_answered(serve: Serve, host: str, allowed: bool) -> None:
    async with serve(trusted_hosts="api.example.com,*.example.org") as client:
        response = await client.get("/health/live", headers={"Host": host})
    if allowed:
        assert response.status_code == 200, response.text
    else:
        error = assert_envelope(response, 400, "HTTP_ERROR")
        assert error["message"] == "Invalid host header"
        assert response.headers["x-content-type-options"] == "nosniff"


async def test_an_untrusted_host_reaches_nothing(serve: Serve) -> None:
    async with serve(trusted_hosts="api.example.com") as client:
        response = await client.post(
            "/api/v1/users",
            json={"email": "eve@example.com", "password": "correct horse battery"},
            headers={"Host": "evil.example.net"},
        )
        assert_envelope(response, 400, "HTTP_ERROR")
        login = await client.post(
            "/api/v1/auth/login",
            data={"username": "eve@example.com", "password": "correct horse battery"},
            headers={"Host": "api.example.com"},
        )
    assert_envelope(login, 401, "UNAUTHORIZED")  # the registration never happened


async def test_by_default_any_host_is_answered(serve: Serve) -> None:
    async with serve() as client:
        response = await client.get("/health/live", headers={"Host": "anything.example"})
    assert response.status_code == 200


# -- body limit --------------------------------------------------------------------------


async def test_a_body_over_the_limit_is_413_and_stores_nothing(serve: Serve) -> None:
    async with serve(max_request_body_bytes=2048) as client:
        headers = await _signed_in(client)
        big = {"title": "big", "description": "x" * 3000}
        response = await client.post("/api/v1/items", json=big, headers=headers)
        error = assert_envelope(response, 413, "PAYLOAD_TOO_LARGE")
        assert error["details"] == {"max_bytes": 2048}
        assert response.headers["connection"] == "close"
        assert await _item_count(client, headers) == 0

        fits = {"title": "fits", "description": "x" * 1500}
        assert (await client.post("/api/v1/items", json=fits, headers=headers)).status_code == 201
        assert await _item_count(client, headers) == 1


async def test_a_body_of_exactly_the_limit_is_read(serve: Serve) -> None:
    async with serve(max_request_body_bytes=2048) as client:
        headers = await _signed_in(client)
        envelope = json.dumps({"title": "t", "description": ""}).encode()
        body = envelope.replace(b'""', b'"' + b"x" * (2048 - len(envelope)) + b'"')
        assert len(body) == 2048
        response = await client.post(
            "/api/v1/items",
            content=body,
            headers={**headers, "Content-Type": "application/json"},
        )
    assert response.status_code == 201, response.text


_HEAD, _TAIL = b'{"title": "streamed", "description": "', b'"}'


def _chunks(total: int, size: int = 500) -> Callable[[], AsyncIterator[bytes]]:
    """A JSON item body of ``total`` bytes sent without a length, in chunks."""
    body = _HEAD + b"x" * (total - len(_HEAD) - len(_TAIL)) + _TAIL

    async def stream() -> AsyncIterator[bytes]:
        for start in range(0, len(body), size):
            yield body[start : start + size]

    return stream


async def test_a_chunked_body_over_the_limit_is_413_and_stores_nothing(serve: Serve) -> None:
    async with serve(max_request_body_bytes=2048) as client:
        headers = await _signed_in(client)
        json_headers = {**headers, "Content-Type": "application/json"}
        response = await client.post("/api/v1/items", content=_chunks(5000)(), headers=json_headers)
        assert "content-length" not in response.request.headers
        assert_envelope(response, 413, "PAYLOAD_TOO_LARGE")
        assert await _item_count(client, headers) == 0

        response = await client.post("/api/v1/items", content=_chunks(1800)(), headers=json_headers)
        assert response.status_code == 201, response.text
        assert response.json()["description"] == "x" * (1800 - len(_HEAD) - len(_TAIL))


async def test_the_default_limit_is_one_mebibyte(serve: Serve) -> None:
    async with serve() as client:
        response = await client.post(
            "/api/v1/auth/login",
            content=b"username=a%40example.com&password=" + b"x" * (1024 * 1024),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    error = assert_envelope(response, 413, "PAYLOAD_TOO_LARGE")
    assert error["details"] == {"max_bytes": 1024 * 1024}
