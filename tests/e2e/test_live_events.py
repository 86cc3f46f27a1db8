"""``GET /api/v1/ws`` end to end, in process, on a real database: authentication by the
first message, the caller's events in commit order, and every documented close code."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import WebSocketDenialResponse, WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from entrypoints.http.live import protocol
from tests.e2e.live_support import LiveWorld, live_world

WS = "/api/v1/ws"


@pytest.fixture
def world(database_url: str) -> Iterator[LiveWorld]:
    with live_world(database_url) as world:
        yield world


def authenticated(ws: WebSocketTestSession, token: str, after: str | None = None) -> None:
    ws.send_json({"type": "auth", "token": token, **({"after": after} if after else {})})
    assert ws.receive_json() == {"type": "ready"}


def closed_with(ws: WebSocketTestSession) -> int:
    """The close code the server ends with; only answers to pings may come before it."""
    with pytest.raises(WebSocketDisconnect) as closed:
        while True:
            assert ws.receive_json() == {"type": "pong"}
    return closed.value.code


def test_the_owner_hears_of_each_change_of_their_items_in_order(world: LiveWorld) -> None:
    client = world.client
    with client.websocket_connect(WS) as ws:
        authenticated(ws, world.tokens["alice"])
        item = world.create("alice", "milk")
        world.create("bob", "not alice's")
        for n in range(3):
            answer = client.patch(
                f"/api/v1/items/{item['id']}",
                json={"title": f"v{n}"},
                headers=world.headers("alice"),
            )
            assert answer.status_code == 200
        assert (
            client.delete(f"/api/v1/items/{item['id']}", headers=world.headers("alice")).status_code
            == 204
        )
        events = [ws.receive_json() for _ in range(5)]
    assert [e["type"] for e in events] == ["item.created"] + ["item.updated"] * 3 + ["item.deleted"]
    assert [e["version"] for e in events] == [1, 2, 3, 4, 4]
    assert {e["item_id"] for e in events} == {item["id"]}
    assert events[0]["item"] == item
    assert events[3]["item"]["title"] == "v2"
    assert "item" not in events[4]
    assert all(isinstance(e["at"], str) for e in events)
    assert len({e["id"] for e in events}) == 5


def test_an_administrator_hears_of_everyone_s_items(world: LiveWorld) -> None:
    with world.client.websocket_connect(WS) as ws:
        authenticated(ws, world.tokens["root"])
        mine = world.create("alice", "a")
        theirs = world.create("bob", "b")
        events = [ws.receive_json() for _ in range(2)]
    assert [e["item"]["id"] for e in events] == [mine["id"], theirs["id"]]


def test_a_refused_change_sends_nothing(world: LiveWorld) -> None:
    client = world.client
    item = world.create("alice", "milk")
    etag = client.get(f"/api/v1/items/{item['id']}", headers=world.headers("alice")).headers["etag"]
    with client.websocket_connect(WS) as ws:
        authenticated(ws, world.tokens["alice"])
        stale = {**world.headers("alice"), "If-Match": '"stale"'}
        refused = client.patch(f"/api/v1/items/{item['id']}", json={"title": "x"}, headers=stale)
        assert refused.status_code == 412
        gone = client.delete(f"/api/v1/items/{item['id']}", headers=stale)
        assert gone.status_code == 412
        by_bob = client.patch(
            f"/api/v1/items/{item['id']}", json={"title": "b"}, headers=world.headers("bob")
        )
        assert by_bob.status_code == 404
        fresh = {**world.headers("alice"), "If-Match": etag}
        assert (
            client.patch(
                f"/api/v1/items/{item['id']}", json={"title": "y"}, headers=fresh
            ).status_code
            == 200
        )
        event = ws.receive_json()
    # The first event is the committed change: nothing of the refused ones came before it.
    assert (event["type"], event["version"], event["item"]["title"]) == ("item.updated", 2, "y")


def test_a_reconnect_with_after_replays_what_was_missed(world: LiveWorld) -> None:
    client = world.client
    with client.websocket_connect(WS) as ws:
        authenticated(ws, world.tokens["alice"])
        first = world.create("alice", "one")
        seen = ws.receive_json()
    missed = [world.create("alice", f"missed {n}") for n in range(3)]
    with client.websocket_connect(WS) as ws:
        authenticated(ws, world.tokens["alice"], after=seen["id"])
        replayed = [ws.receive_json() for _ in range(3)]
        late = world.create("alice", "late")
        live = ws.receive_json()
    assert seen["item_id"] == first["id"]
    assert [e["item_id"] for e in replayed] == [m["id"] for m in missed]
    assert live["item_id"] == late["id"]


def test_an_unknown_after_asks_the_client_to_reload(world: LiveWorld) -> None:
    with world.client.websocket_connect(WS) as ws:
        authenticated(ws, world.tokens["alice"], after="17-3")
        assert ws.receive_json()["type"] == "reset"
        item = world.create("alice", "after the reset")
        assert ws.receive_json()["item_id"] == item["id"]


@pytest.mark.parametrize("token", ["", "not-a-token", "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"])
def test_a_bad_token_closes_with_4401(world: LiveWorld, token: str) -> None:
    with world.client.websocket_connect(WS) as ws:
        ws.send_json({"type": "auth", "token": token})
        assert closed_with(ws) == 4401


def test_no_auth_in_time_closes_with_4408(
    world: LiveWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(protocol, "AUTH_SECONDS", 0.2)
    with world.client.websocket_connect(WS) as ws:
        assert closed_with(ws) == 4408


@pytest.mark.parametrize(
    ("first", "code"),
    [
        (b"\x00binary", 1008),
        ("{not json", 1008),
        ("[1, 2]", 1008),
        (json.dumps({"type": "hello"}), 1008),
        (json.dumps({"type": "auth"}), 1008),
        (json.dumps({"type": "auth", "token": "x", "after": 5}), 1008),
        (json.dumps({"type": "auth", "token": "x" * 5000}), 1009),
    ],
)
def test_a_first_message_that_breaks_the_rules_closes_the_socket(
    world: LiveWorld, first: Any, code: int
) -> None:
    with world.client.websocket_connect(WS) as ws:
        if isinstance(first, bytes):
            ws.send_bytes(first)
        else:
            ws.send_text(first)
        assert closed_with(ws) == code


@pytest.mark.parametrize(
    ("message", "code"),
    [
        (json.dumps({"type": "auth", "token": "again"}), 1008),
        (json.dumps({"type": "subscribe"}), 1008),
        ("nope", 1008),
        (b"\x01", 1008),
        ("x" * 4097, 1009),
    ],
)
def test_a_later_message_that_breaks_the_rules_closes_the_socket(
    world: LiveWorld, message: Any, code: int
) -> None:
    with world.client.websocket_connect(WS) as ws:
        authenticated(ws, world.tokens["alice"])
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}
        if isinstance(message, bytes):
            ws.send_bytes(message)
        else:
            ws.send_text(message)
        assert closed_with(ws) == code


def test_a_flood_of_messages_closes_with_1008(world: LiveWorld) -> None:
    with world.client.websocket_connect(WS) as ws:
        authenticated(ws, world.tokens["alice"])
        for _ in range(protocol.CLIENT_MESSAGES + 1):
            ws.send_json({"type": "ping"})
        assert closed_with(ws) == 1008


def test_past_the_limit_of_sockets_a_user_is_closed_with_4429(database_url: str) -> None:
    with live_world(database_url, ws_max_connections_per_user=2) as world:
        client = world.client
        with client.websocket_connect(WS) as one, client.websocket_connect(WS) as two:
            authenticated(one, world.tokens["alice"])
            authenticated(two, world.tokens["alice"])
            with client.websocket_connect(WS) as three:
                three.send_json({"type": "auth", "token": world.tokens["alice"]})
                assert closed_with(three) == 4429
            with client.websocket_connect(WS) as bobs:
                authenticated(bobs, world.tokens["bob"])
        with client.websocket_connect(WS) as again:  # a closed socket frees its place
            authenticated(again, world.tokens["alice"])


def test_a_browser_from_another_origin_is_refused(database_url: str) -> None:
    with live_world(database_url, cors_origins="https://app.example.com") as world:
        evil = {"Origin": "https://evil.example"}
        with (
            pytest.raises(WebSocketDisconnect) as refused,
            world.client.websocket_connect(WS, headers=evil),
        ):
            pass
        assert refused.value.code == 1008
        allowed = {"Origin": "https://app.example.com"}
        with world.client.websocket_connect(WS, headers=allowed) as ws:
            authenticated(ws, world.tokens["alice"])


def _metric(world: LiveWorld, name: str) -> float:
    text = world.client.get("/metrics").text
    values = [line.split()[-1] for line in text.splitlines() if line.startswith(f"{name} ")]
    assert values, f"{name} not exported"
    return float(values[0])


def test_open_sockets_and_events_sent_are_counted(world: LiveWorld) -> None:
    sent = _metric(world, "keel_live_events_sent_total")
    with world.client.websocket_connect(WS) as ws:
        authenticated(ws, world.tokens["alice"])
        assert _metric(world, "keel_live_sockets") == 1
        for n in range(3):
            world.create("alice", f"counted {n}")
            ws.receive_json()
    assert _metric(world, "keel_live_events_sent_total") == sent + 3
    assert _metric(world, "keel_live_sockets") == 0
    assert _metric(world, "keel_live_clients_dropped_slow_total") == 0


def test_the_middleware_lets_sockets_through_and_refuses_an_untrusted_host(
    database_url: str,
) -> None:
    with live_world(database_url, trusted_hosts="keel.test,testserver") as world:
        with world.client.websocket_connect(WS) as ws:
            authenticated(ws, world.tokens["alice"])
            item = world.create("alice", "through every middleware")
            assert ws.receive_json()["item_id"] == item["id"]
        with pytest.raises(WebSocketDenialResponse) as refused:  # noqa: SIM117
            with world.client.websocket_connect(WS, headers={"Host": "evil.example"}):
                pass
        assert refused.value.status_code == 400
        assert refused.value.json()["error"]["code"] == "HTTP_ERROR"
