"""Helpers for the live-event tests: the app in process behind Starlette's test client,
whose WebSocket support drives ``GET /api/v1/ws``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from starlette.testclient import TestClient

from application.use_cases.accounts.create_superuser import CreateSuperuserCommand
from entrypoints.http.app import create_app
from tests.e2e.http_support import PASSWORD, make_settings
from tests.support.migrated import copies


class LiveWorld:
    """The app with its callers, each with an access token."""

    def __init__(self, client: TestClient, app: FastAPI) -> None:
        self.client = client
        self.app = app
        self.ids: dict[str, str] = {}
        self.tokens: dict[str, str] = {}

    def add(self, name: str, *, admin: bool = False) -> None:
        email = f"{name}@example.com"
        if admin:
            command = CreateSuperuserCommand(email=email, password=PASSWORD)
            use_case = self.app.state.container.create_superuser()
            assert self.client.portal is not None
            self.ids[name] = str(self.client.portal.call(use_case.execute, command).id)
        else:
            response = self.client.post(
                "/api/v1/users", json={"email": email, "password": PASSWORD, "full_name": name}
            )
            assert response.status_code == 201, response.text
            self.ids[name] = response.json()["id"]
        self.tokens[name] = self.login(name)

    def login(self, name: str) -> str:
        return self.session(name)[0]

    def session(self, name: str) -> tuple[str, str]:
        """A new session: its access and refresh tokens."""
        response = self.client.post(
            "/api/v1/auth/login", data={"username": f"{name}@example.com", "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        return body["access_token"], body["refresh_token"]

    def headers(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    def create(self, who: str, title: str) -> dict[str, Any]:
        response = self.client.post(
            "/api/v1/items", json={"title": title}, headers=self.headers(who)
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body


@contextmanager
def live_world(database_url: str, **overrides: Any) -> Iterator[LiveWorld]:
    copies().copy(database_url)
    app = create_app(make_settings(database_url, **overrides))
    with TestClient(app, base_url="http://keel.test") as client:
        world = LiveWorld(client, app)
        for name in ("alice", "bob"):
            world.add(name)
        world.add("root", admin=True)
        yield world
