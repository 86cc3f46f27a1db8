"""The envelope, the request id and the security headers on every kind of answer."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from entrypoints.http.app import create_app
from tests.e2e.http_support import assert_envelope, make_settings, serving

UNREACHABLE = "postgresql+asyncpg://keel:secret@127.0.0.1:1/keel"


async def test_unknown_route_is_404_in_the_envelope(client: httpx.AsyncClient) -> None:
    assert_envelope(await client.get("/api/v1/nothing-here"), 404, "HTTP_ERROR")


async def test_wrong_method_is_405_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/v1/auth/login")
    assert_envelope(response, 405, "HTTP_ERROR")
    assert "POST" in response.headers["allow"]


async def test_an_unexpected_error_is_500_with_nothing_internal(migrated_url: str) -> None:
    app = create_app(make_settings(migrated_url))

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret detail /etc/passwd SELECT * FROM users")

    async with serving(app) as client:
        response = await client.get("/boom", headers={"X-Request-ID": "trace-500"})
    error = assert_envelope(response, 500, "INTERNAL_ERROR")
    assert error["request_id"] == "trace-500"
    for leak in ("secret", "/etc/passwd", "SELECT", "RuntimeError", "Traceback"):
        assert leak not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_ready_names_the_database_and_the_job_queue_when_healthy(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "jobs": "ok", "storage": "ok"},
    }


@pytest.fixture
async def outage_client() -> AsyncIterator[httpx.AsyncClient]:
    async with serving(create_app(make_settings(UNREACHABLE))) as client:
        yield client


async def test_ready_is_503_naming_the_database_when_it_is_gone(
    outage_client: httpx.AsyncClient,
) -> None:
    response = await outage_client.get("/health/ready")
    error = assert_envelope(response, 503, "SERVICE_UNAVAILABLE")
    assert error["details"] == {"checks": {"database": "connection refused", "storage": "ok"}}
    assert (await outage_client.get("/health/live")).status_code == 200


async def test_routes_needing_the_database_are_503_when_it_is_gone(
    outage_client: httpx.AsyncClient,
) -> None:
    response = await outage_client.post(
        "/api/v1/users", json={"email": "ada@example.com", "password": "correct horse"}
    )
    assert_envelope(response, 503, "SERVICE_UNAVAILABLE")
    assert "127.0.0.1" not in response.text
    assert "secret" not in response.text
    login = await outage_client.post(
        "/api/v1/auth/login", data={"username": "ada@example.com", "password": "x" * 10}
    )
    assert_envelope(login, 503, "SERVICE_UNAVAILABLE")


async def test_an_unmigrated_database_is_503_not_500(database_url: str) -> None:
    async with serving(create_app(make_settings(database_url))) as client:
        response = await client.post(
            "/api/v1/users", json={"email": "ada@example.com", "password": "correct horse"}
        )
    assert_envelope(response, 503, "SERVICE_UNAVAILABLE")


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("abc-123_DEF.4", True),
        ("x" * 128, True),
        ("x" * 129, False),
        ("has space", False),
        ("semi;colon", False),
        ("", False),
    ],
)
async def test_request_id_is_kept_only_when_sane(
    client: httpx.AsyncClient, sent: str, kept: bool
) -> None:
    response = await client.get("/health/live", headers={"X-Request-ID": sent})
    echoed = response.headers["x-request-id"]
    assert (echoed == sent) is kept
    assert 1 <= len(echoed) <= 128


async def test_a_request_without_an_id_gets_a_random_one(client: httpx.AsyncClient) -> None:
    ids = [(await client.get("/health/live")).headers["x-request-id"] for _ in range(3)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", request_id) for request_id in ids)
    assert len(set(ids)) == 3


async def test_security_headers_on_success_and_error(client: httpx.AsyncClient) -> None:
    for response in (await client.get("/health/live"), await client.get("/missing")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_no_hsts_in_development(migrated_url: str) -> None:
    settings = make_settings(migrated_url, environment="development")
    async with serving(create_app(settings)) as client:
        response = await client.get("/health/live")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" not in response.headers


async def test_hsts_and_no_docs_in_production(migrated_url: str) -> None:
    settings = make_settings(
        migrated_url,
        environment="production",
        trusted_hosts="keel.test",
        encryption_key="IupzHTMrOXaFMRE85WOTEYIcs3NDLK0WVQIWfYBM1Jc=",
    )
    async with serving(create_app(settings)) as client:
        live = await client.get("/health/live")
        assert live.headers["strict-transport-security"].startswith("max-age=")
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert_envelope(await client.get(path), 404, "HTTP_ERROR")


async def test_docs_are_served_outside_production(client: httpx.AsyncClient) -> None:
    assert (await client.get("/docs")).status_code == 200
    document = (await client.get("/openapi.json")).json()
    assert "/api/v1/users" in document["paths"]
    login_doc = document["paths"]["/api/v1/auth/login"]["post"]
    assert {"401", "422"} <= set(login_doc["responses"])


PROTECTED_ROUTES = [
    ("POST", "/api/v1/auth/logout-all"),
    ("GET", "/api/v1/users/me"),
    ("PATCH", "/api/v1/users/me"),
    ("DELETE", "/api/v1/users/me"),
    ("GET", "/api/v1/users"),
    ("GET", "/api/v1/users/7d5c1b2e-4a0f-4a7e-9a43-1f0e2d3c4b5a"),
    ("PATCH", "/api/v1/users/7d5c1b2e-4a0f-4a7e-9a43-1f0e2d3c4b5a"),
    ("DELETE", "/api/v1/users/7d5c1b2e-4a0f-4a7e-9a43-1f0e2d3c4b5a"),
    ("POST", "/api/v1/items"),
    ("GET", "/api/v1/items"),
    ("GET", "/api/v1/items/7d5c1b2e-4a0f-4a7e-9a43-1f0e2d3c4b5a"),
    ("PATCH", "/api/v1/items/7d5c1b2e-4a0f-4a7e-9a43-1f0e2d3c4b5a"),
    ("DELETE", "/api/v1/items/7d5c1b2e-4a0f-4a7e-9a43-1f0e2d3c4b5a"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED_ROUTES)
@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token"], ids=["none", "bad"])
async def test_every_protected_route_is_401_without_a_valid_token(
    client: httpx.AsyncClient, method: str, path: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    body = {"title": "t"} if method in ("POST", "PATCH") else None
    response = await client.request(method, path, headers=headers, json=body)
    assert_envelope(response, 401, "UNAUTHORIZED")
    assert response.headers["www-authenticate"] == "Bearer"
