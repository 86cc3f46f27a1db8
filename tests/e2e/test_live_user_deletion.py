"""Deleting a user tells the administrators' sockets of each item deleted with them, with
its last version, through the outbox: a deletion that is rolled back tells nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from adapters.sqlalchemy.repositories import SqlAlchemyUserRepository
from application.use_cases.accounts import delete_user
from tests.e2e.live_support import LiveWorld, live_world

WS = "/api/v1/ws"


@pytest.fixture
def world(database_url: str) -> Iterator[LiveWorld]:
    with live_world(database_url) as world:
        yield world


def items_of_alice(world: LiveWorld, count: int) -> dict[str, int]:
    """Alice's items, some changed: each id with its version."""
    versions: dict[str, int] = {}
    for n in range(count):
        item = world.create("alice", f"item {n}")
        for change in range(n % 3):
            answer = world.client.patch(
                f"/api/v1/items/{item['id']}",
                json={"title": f"item {n}.{change}"},
                headers=world.headers("alice"),
            )
            assert answer.status_code == 200
        versions[item["id"]] = 1 + n % 3
    return versions


def receive_deletions(ws: Any, count: int) -> dict[str, int]:
    """The next ``count`` events, every one an ``item.deleted``: item id to version."""
    seen: dict[str, int] = {}
    for _ in range(count):
        event = ws.receive_json()
        assert event["type"] == "item.deleted", event
        assert "item" not in event
        seen[event["item_id"]] = event["version"]
    return seen


@pytest.mark.parametrize("per_event", [1_000, 2], ids=["one chunk", "chunks"])
def test_an_administrator_hears_of_each_item_deleted_with_its_owner(
    world: LiveWorld, per_event: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two a chunk: seven items are four outbox entries, each published by its job.
    monkeypatch.setattr(delete_user, "ITEMS_PER_EVENT", per_event)
    versions = items_of_alice(world, 7)
    client = world.client
    with client.websocket_connect(WS) as ws:
        ws.send_json({"type": "auth", "token": world.tokens["root"]})
        assert ws.receive_json() == {"type": "ready"}
        gone = client.delete(f"/api/v1/users/{world.ids['alice']}", headers=world.headers("root"))
        assert gone.status_code == 204
        # Once every chunk's job ran, whatever was to come has come, before this change.
        wait_for_jobs(world, succeeded=-(-7 // per_event))
        after = world.create("bob", "after")
        assert receive_deletions(ws, 7) == versions
        assert ws.receive_json()["item_id"] == after["id"]


def test_a_deletion_rolled_back_tells_nothing(
    world: LiveWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delete_user, "ITEMS_PER_EVENT", 2)
    versions = items_of_alice(world, 5)

    async def lose(*args: object, **kwargs: object) -> bool:
        return False  # as if the account changed each time: every attempt is rolled back

    client = world.client
    with client.websocket_connect(WS) as ws:
        ws.send_json({"type": "auth", "token": world.tokens["root"]})
        assert ws.receive_json() == {"type": "ready"}
        with monkeypatch.context() as patch:
            patch.setattr(SqlAlchemyUserRepository, "delete", lose)
            refused = client.delete(
                f"/api/v1/users/{world.ids['alice']}", headers=world.headers("root")
            )
        assert refused.status_code == 409, refused.text
        mine = client.get("/api/v1/items", headers=world.headers("alice"))
        assert {item["id"] for item in mine.json()["items"]} == set(versions)
        after = world.create("bob", "after")
        event = ws.receive_json()
        # The item's own job ran: any entry stored before it would have been enqueued too.
        jobs = wait_for_jobs(world, succeeded=1, kind="item_created")
    # The first event is the change made after: nothing of the rolled-back deletion.
    assert (event["type"], event["item_id"]) == ("item.created", after["id"])
    assert jobs.get(("owner_items_deleted", "enqueued"), 0) == 0


def job_counts(world: LiveWorld) -> dict[tuple[str, str], float]:
    counts: dict[tuple[str, str], float] = {}
    for line in world.client.get("/metrics").text.splitlines():
        if line.startswith("keel_jobs_total{"):
            labels, value = line[len("keel_jobs_total{") :].split("} ")
            fields = dict(part.split("=") for part in labels.split(","))
            counts[(fields["kind"].strip('"'), fields["outcome"].strip('"'))] = float(value)
    return counts


def wait_for_jobs(
    world: LiveWorld, *, succeeded: int, kind: str = "owner_items_deleted"
) -> dict[tuple[str, str], float]:
    deadline = time.monotonic() + 15
    while True:
        counts = job_counts(world)
        if counts.get((kind, "succeeded"), 0) >= succeeded:
            return counts
        assert time.monotonic() < deadline, counts
        time.sleep(0.1)
