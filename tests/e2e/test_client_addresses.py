"""The address the limits and the access log see, with TRUSTED_PROXIES, in process."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from entrypoints.http.app import create_app
from entrypoints.logs import configure_logging
from tests.e2e.http_support import assert_envelope, make_settings, register

PROXY = "10.0.0.2"
STRANGER = "203.0.113.9"


@asynccontextmanager
async def peers(migrated_url: str, **overrides: Any) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """One app; a client connecting from the trusted proxy, one from a stranger."""
    settings = make_settings(
        migrated_url,
        trusted_proxies="10.0.0.0/8",
        login_address_rate_limit="5/minute",
        **overrides,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        clients = {
            peer: httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app, client=(peer, 40000)),
                base_url="http://keel.test",
            )
            for peer in (PROXY, STRANGER)
        }
        try:
            yield clients
        finally:
            for client in clients.values():
                await client.aclose()


async def wrong_login(client: httpx.AsyncClient, n: int, forwarded_for: str) -> int:
    response = await client.post(
        "/api/v1/auth/login",
        data={"username": f"user{n}@example.com", "password": "wrong password"},
        headers={"X-Forwarded-For": forwarded_for},
    )
    return response.status_code


async def test_a_stranger_rotating_x_forwarded_for_is_still_one_address(
    migrated_url: str,
) -> None:
    async with peers(migrated_url) as client:
        statuses = [await wrong_login(client[STRANGER], n, f"198.51.100.{n}") for n in range(6)]
    assert statuses == [401] * 5 + [429]


async def test_a_trusted_proxy_names_the_address_counted(migrated_url: str) -> None:
    async with peers(migrated_url) as client:
        proxy = client[PROXY]
        statuses = [await wrong_login(proxy, n, "1.1.1.1, 198.51.100.7") for n in range(6)]
        assert statuses == [401] * 5 + [429]
        # Another client behind the same proxy is another address; the forged left part of
        # the header did not matter.
        assert await wrong_login(proxy, 7, "1.1.1.1, 198.51.100.8") == 401
        # The stranger's own address has not been counted either.
        assert await wrong_login(client[STRANGER], 8, "198.51.100.7") == 401


async def test_registrations_are_counted_per_forwarded_address(migrated_url: str) -> None:
    async with peers(migrated_url, registration_rate_limit="2/hour") as client:
        proxy = client[PROXY]

        async def sign_up(n: int, address: str) -> httpx.Response:
            return await proxy.post(
                "/api/v1/users",
                json={"email": f"r{n}@example.com", "password": "correct horse battery"},
                headers={"X-Forwarded-For": address},
            )

        assert [(await sign_up(n, "198.51.100.7")).status_code for n in range(2)] == [201, 201]
        assert_envelope(await sign_up(2, "198.51.100.7"), 429, "RATE_LIMITED")
        assert (await sign_up(3, "198.51.100.8")).status_code == 201
        await register(proxy, "plain@example.com")  # the proxy itself, forwarding no one


async def test_the_access_log_shows_the_resolved_address(
    migrated_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "json")
    async with peers(migrated_url) as client:
        capsys.readouterr()
        await client[PROXY].get("/health/live", headers={"X-Forwarded-For": "198.51.100.7"})
        await client[STRANGER].get("/health/live", headers={"X-Forwarded-For": "198.51.100.7"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    access = [line["client"] for line in lines if line.get("logger") == "keel.access"]
    assert access == ["198.51.100.7", STRANGER]


async def test_the_sessions_list_shows_the_resolved_address(migrated_url: str) -> None:
    async with peers(migrated_url) as client:
        await register(client[PROXY])
        tokens = {}
        for peer in (PROXY, STRANGER):
            response = await client[peer].post(
                "/api/v1/auth/login",
                data={"username": "ada@example.com", "password": "correct horse battery"},
                headers={"X-Forwarded-For": "1.1.1.1, 198.51.100.7"},
            )
            assert response.status_code == 200, response.text
            tokens[peer] = response.json()["access_token"]
        listed = await client[PROXY].get(
            "/api/v1/auth/sessions", headers={"Authorization": f"Bearer {tokens[PROXY]}"}
        )
    # Behind the trusted proxy, its client; a stranger's header is not believed.
    assert [s["address"] for s in listed.json()["items"]] == [STRANGER, "198.51.100.7"]
