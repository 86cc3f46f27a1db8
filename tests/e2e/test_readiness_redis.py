"""Readiness checks Redis when REDIS_URL is set, and names it when it fails."""

from __future__ import annotations

from entrypoints.http.app import create_app
from tests.e2e.http_support import assert_envelope, make_settings, serving
from tests.support.postgres import free_port


async def test_ready_with_redis(migrated_url: str, redis_url: str) -> None:
    async with serving(create_app(make_settings(migrated_url, redis_url=redis_url))) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {
        "database": "ok",
        "jobs": "ok",
        "redis": "ok",
        "storage": "ok",
    }


async def test_redis_gone_is_named(migrated_url: str) -> None:
    gone = f"redis://:hunter2-secret@127.0.0.1:{free_port()}/0"
    async with serving(create_app(make_settings(migrated_url, redis_url=gone))) as client:
        response = await client.get("/health/ready")
    error = assert_envelope(response, 503, "SERVICE_UNAVAILABLE")
    assert error["message"] == "Redis is unavailable"
    assert error["details"] == {
        "checks": {
            "database": "ok",
            "jobs": "ok",
            "redis": "connection refused",
            "storage": "ok",
        }
    }
    assert "hunter2" not in response.text
