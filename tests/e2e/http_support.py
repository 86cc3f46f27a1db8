"""Helpers for the HTTP tests: the app in process, and the usual calls and checks."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from application.use_cases.accounts.create_superuser import CreateSuperuserCommand
from entrypoints.settings import Settings

PASSWORD = "correct horse battery"


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Every request of a test comes from one address: the limits per address are raised
    here, and tests of those limits set their own."""
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": database_url,
        "jwt_secret": secrets.token_urlsafe(48),
        "registration_rate_limit": "100000/minute",
        "login_address_rate_limit": "100000/minute",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan run, behind an httpx client; errors come back as answers."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://keel.test") as client,
    ):
        yield client


async def register(
    client: httpx.AsyncClient, email: str = "ada@example.com", password: str = PASSWORD
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/users", json={"email": email, "password": password, "full_name": "Ada"}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def login(
    client: httpx.AsyncClient, email: str = "ada@example.com", password: str = PASSWORD
) -> httpx.Response:
    return await client.post("/api/v1/auth/login", data={"username": email, "password": password})


async def access_token(client: httpx.AsyncClient, email: str = "ada@example.com") -> str:
    response = await login(client, email)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def assert_envelope(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The answer is ``status`` in the error envelope with ``code``; returns the error."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["details"], dict)
    assert error["request_id"] == response.headers["x-request-id"]
    return error


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class World:
    """An app with three callers: alice, bob and an administrator."""

    def __init__(self, client: httpx.AsyncClient, app: FastAPI) -> None:
        self.client = client
        self.app = app
        self.ids: dict[str, str] = {}
        self.headers: dict[str, dict[str, str]] = {}

    async def add(self, name: str, *, admin: bool = False) -> None:
        email = f"{name}@example.com"
        if admin:
            user = await self.app.state.container.create_superuser().execute(
                CreateSuperuserCommand(email=email, password=PASSWORD)
            )
            self.ids[name] = str(user.id)
        else:
            self.ids[name] = (await register(self.client, email))["id"]
        self.headers[name] = bearer(await access_token(self.client, email))

    async def create(self, who: str, title: str, description: str | None = None) -> dict[str, Any]:
        response = await self.client.post(
            "/api/v1/items",
            json={"title": title, "description": description},
            headers=self.headers[who],
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def get(self, who: str, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(path, params=params, headers=self.headers[who])
