"""Deleting a user tells the administrators' sockets of each item deleted with them, with
its last version, through the outbox: a deletion that is rolled back tells nothing."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from adapters.sqlalchemy.repositories import SqlAlchemyUserRepository
from application.use_cases.accounts import delete_user
from domain.events import ItemDeleted
from entrypoints.http.app import create_app
from tests.e2e.http_support import PASSWORD, access_token, make_settings, serving
from tests.e2e.live_support import LiveWorld, live_world
from tests.support.migrated import migrated

WS = "/api/v1/ws"
TRIALS = 8  # a race that hits one time in five shows


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


@pytest.mark.postgres
async def test_every_item_created_while_its_owner_is_deleted_is_told_deleted(
    postgres_url: str,
) -> None:
    """Items added while the account is being deleted either fail (the owner is gone) or
    are deleted with it and told of: none is removed by the cascade unannounced."""
    await migrated(postgres_url)
    app = create_app(
        make_settings(
            postgres_url, database_pool_size=30, database_max_overflow=40, password_hash_threads=4
        )
    )
    async with serving(app) as client:
        bus = app.state.container.event_bus()
        for trial in range(TRIALS):
            owner_id, headers = await add_user(client, f"ada{trial}@example.com")
            # Some before, so that the deletion takes a few chunks' time.
            for n in range(30):
                made = await client.post("/api/v1/items", json={"title": f"{n}"}, headers=headers)
                assert made.status_code == 201
            admin = await bus.subscribe(uuid.uuid4(), everyone=True, after=None, capacity=10_000)
            try:

                async def create(n: int, headers: dict[str, str] = headers) -> httpx.Response:
                    await asyncio.sleep(n * 0.001)
                    return await client.post(
                        "/api/v1/items", json={"title": f"late {n}"}, headers=headers
                    )

                deletion, *creations = await asyncio.gather(
                    client.delete("/api/v1/users/me", headers=headers),
                    *(create(n) for n in range(30)),
                )
                assert deletion.status_code == 204, deletion.text
                created = {r.json()["id"] for r in creations if r.status_code == 201}
                assert all(r.status_code in (201, 401, 404) for r in creations)
                told = await deletions_of(admin, owner_id, created)
                assert created <= told, (trial, len(created), len(told), len(created - told))
            finally:
                admin.close()


async def deletions_of(subscription: Any, owner_id: str, expected: set[str]) -> set[str]:
    """The items of ``owner_id`` told deleted, until ``expected`` are or 15 s pass."""
    told: set[str] = set()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(15):
            while not expected <= told:
                notice = await subscription.receive()
                event = getattr(notice, "event", None)
                if isinstance(event, ItemDeleted) and str(event.owner_id) == owner_id:
                    told.add(str(event.item_id))
    return told


async def add_user(client: httpx.AsyncClient, email: str) -> tuple[str, dict[str, str]]:
    made = await client.post("/api/v1/users", json={"email": email, "password": PASSWORD})
    assert made.status_code == 201, made.text
    token = await access_token(client, email)
    return made.json()["id"], {"Authorization": f"Bearer {token}"}
