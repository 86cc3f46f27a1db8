"""Sessions end on the live-event socket too: a logout, a logout of all sessions, a new
password, a deactivation and the token's expiry close it with 4401 within a second."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from adapters.jwt.token_service import PyJwtTokenService
from domain.role import Role
from tests.e2e.http_support import PASSWORD
from tests.e2e.live_support import LiveWorld, live_world

WS = "/api/v1/ws"


@pytest.fixture
def world(database_url: str) -> Iterator[LiveWorld]:
    with live_world(database_url) as world:
        yield world


def ready(ws: WebSocketTestSession, token: str) -> None:
    ws.send_json({"type": "auth", "token": token})
    assert ws.receive_json() == {"type": "ready"}


def closed_within_a_second(ws: WebSocketTestSession, end: Callable[[], object]) -> None:
    end()
    closed_after(ws, 1.0)


def closed_after(ws: WebSocketTestSession, seconds: float) -> None:
    """Closed with 4401 by then: a socket still open would answer the ping."""
    time.sleep(seconds)
    ws.send_json({"type": "ping"})
    with pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_json()
    assert closed.value.code == 4401


def still_open(world: LiveWorld, ws: WebSocketTestSession, owner: str) -> None:
    item = world.create(owner, "still listening")
    assert ws.receive_json()["item_id"] == item["id"]


def test_a_logout_closes_the_sockets_of_that_session_only(world: LiveWorld) -> None:
    access, refresh = world.session("alice")
    with world.client.websocket_connect(WS) as ended, world.client.websocket_connect(WS) as other:
        ready(ended, access)
        ready(other, world.tokens["alice"])

        def logout() -> None:
            answer = world.client.post("/api/v1/auth/logout", json={"refresh_token": refresh})
            assert answer.status_code == 204

        closed_within_a_second(ended, logout)
        still_open(world, other, "alice")


def test_a_logout_of_all_sessions_closes_every_socket(world: LiveWorld) -> None:
    with world.client.websocket_connect(WS) as one, world.client.websocket_connect(WS) as two:
        ready(one, world.tokens["alice"])
        ready(two, world.login("alice"))
        with world.client.websocket_connect(WS) as bobs:
            ready(bobs, world.tokens["bob"])

            def logout_all() -> None:
                answer = world.client.post(
                    "/api/v1/auth/logout-all", headers=world.headers("alice")
                )
                assert answer.status_code == 204

            closed_within_a_second(one, logout_all)
            closed_after(two, 0)
            still_open(world, bobs, "bob")


def test_a_new_password_closes_the_socket(world: LiveWorld) -> None:
    with world.client.websocket_connect(WS) as ws:
        ready(ws, world.tokens["alice"])

        def new_password() -> None:
            answer = world.client.patch(
                "/api/v1/users/me",
                json={"password": "a new and longer passphrase", "current_password": PASSWORD},
                headers=world.headers("alice"),
            )
            assert answer.status_code == 200, answer.text

        closed_within_a_second(ws, new_password)


def test_a_deactivation_closes_the_socket(world: LiveWorld) -> None:
    with world.client.websocket_connect(WS) as ws:
        ready(ws, world.tokens["bob"])

        def deactivate() -> None:
            answer = world.client.patch(
                f"/api/v1/users/{world.ids['bob']}",
                json={"is_active": False},
                headers=world.headers("root"),
            )
            assert answer.status_code == 200, answer.text

        closed_within_a_second(ws, deactivate)


def test_the_socket_closes_when_its_token_expires(world: LiveWorld) -> None:
    service = world.app.state.container.token_service()
    claims = service.decode_access(world.tokens["alice"])
    assert claims.session_id is not None
    short = PyJwtTokenService(
        secret=world.app.state.settings.jwt_secret_value(),
        algorithm=world.app.state.settings.jwt_algorithm,
        issuer=world.app.state.settings.jwt_issuer,
        audience=world.app.state.settings.jwt_audience,
        access_ttl=timedelta(seconds=2),
        refresh_ttl=timedelta(days=1),
        clock=world.app.state.container.clock(),
    )
    token = short.issue_access(
        uuid.UUID(world.ids["alice"]), frozenset({Role.USER}), claims.session_id
    ).token
    with world.client.websocket_connect(WS) as ws:
        ready(ws, token)
        closed_after(ws, 3.0)


def test_a_session_ended_from_the_list_closes_its_sockets_only(world: LiveWorld) -> None:
    access, _ = world.session("alice")
    sessions = world.client.get(
        "/api/v1/auth/sessions", headers={"Authorization": f"Bearer {access}"}
    )
    [ended_id] = [s["id"] for s in sessions.json()["items"] if s["current"]]
    with world.client.websocket_connect(WS) as ended, world.client.websocket_connect(WS) as other:
        ready(ended, access)
        ready(other, world.tokens["alice"])

        def end_from_another_device() -> None:
            answer = world.client.delete(
                f"/api/v1/auth/sessions/{ended_id}", headers=world.headers("alice")
            )
            assert answer.status_code == 204

        closed_within_a_second(ended, end_from_another_device)
        still_open(world, other, "alice")


def test_a_personal_access_token_never_opens_the_socket(world: LiveWorld) -> None:
    created = world.client.post(
        "/api/v1/auth/tokens",
        json={"name": "script", "scopes": ["items:read", "items:write", "account:read"]},
        headers=world.headers("alice"),
    )
    assert created.status_code == 201, created.text
    with world.client.websocket_connect(WS) as ws:
        ws.send_json({"type": "auth", "token": created.json()["token"]})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4401
