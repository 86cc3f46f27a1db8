"""The in-memory event bus: who hears what, in which order, what a reconnect replays, and
what happens to a subscriber that falls behind."""

from __future__ import annotations

import uuid

import pytest

from adapters.live import memory
from adapters.live.memory import InMemoryEventBus
from application.ports import Delivery, Reset, SubscriberTooSlow, Subscription
from domain.events import ItemCreated, ItemDeleted, ItemUpdated, SessionsEnded

ALICE, BOB = uuid.uuid4(), uuid.uuid4()


def created(owner: uuid.UUID, item: uuid.UUID | None = None) -> ItemCreated:
    return ItemCreated(item or uuid.uuid4(), owner, 1, "t", None, "a", "a")


def updated(event: ItemCreated | ItemUpdated, version: int) -> ItemUpdated:
    return ItemUpdated(event.item_id, event.owner_id, version, f"v{version}", None, "a", "b")


async def drain(subscription: Subscription, count: int) -> list[Delivery]:
    out = []
    for _ in range(count):
        notice = await subscription.receive()
        assert isinstance(notice, Delivery)
        out.append(notice)
    return out


async def test_owners_hear_of_their_items_and_administrators_of_all() -> None:
    bus = InMemoryEventBus()
    alice = await bus.subscribe(ALICE, everyone=False, after=None, capacity=10)
    admin = await bus.subscribe(uuid.uuid4(), everyone=True, after=None, capacity=10)
    mine, bobs = created(ALICE), created(BOB)
    await bus.publish(mine)
    await bus.publish(bobs)
    await bus.publish(updated(mine, 2))
    assert [d.event for d in await drain(alice, 2)] == [mine, updated(mine, 2)]
    assert [d.event for d in await drain(admin, 3)] == [mine, bobs, updated(mine, 2)]


async def test_repeats_and_overtaken_events_are_dropped() -> None:
    bus = InMemoryEventBus()
    alice = await bus.subscribe(ALICE, everyone=False, after=None, capacity=10)
    item = created(ALICE)
    await bus.publish(item)
    await bus.publish(updated(item, 3))
    await bus.publish(updated(item, 2))  # committed before version 3, published after
    await bus.publish(updated(item, 3))  # its outbox job
    await bus.publish(item)
    gone = ItemDeleted(item.item_id, ALICE, 2, "z")  # read at 2, deleted after 3
    await bus.publish(gone)
    await bus.publish(updated(item, 4))
    events = [d.event for d in await drain(alice, 3)]
    assert events == [item, updated(item, 3), gone]


async def test_a_reconnect_replays_exactly_what_was_missed() -> None:
    bus = InMemoryEventBus()
    first = await bus.subscribe(ALICE, everyone=False, after=None, capacity=10)
    events = [created(ALICE) for _ in range(5)]
    for event in events[:2]:
        await bus.publish(event)
    seen = await drain(first, 2)
    first.close()
    for event in events[2:]:
        await bus.publish(event)
    await bus.publish(created(BOB))
    again = await bus.subscribe(ALICE, everyone=False, after=seen[-1].id, capacity=10)
    await bus.publish(updated(events[0], 2))
    replayed = await drain(again, 4)
    assert [d.event for d in replayed] == [*events[2:], updated(events[0], 2)]
    assert len({d.id for d in [*seen, *replayed]}) == 6


@pytest.mark.parametrize("after", ["nonsense", "1-1", "99999999999999-1", "-1"])
async def test_an_id_not_of_this_bus_asks_for_a_reload(after: str) -> None:
    bus = InMemoryEventBus()
    await bus.publish(created(ALICE))
    subscription = await bus.subscribe(ALICE, everyone=False, after=after, capacity=10)
    assert isinstance(await subscription.receive(), Reset)


async def test_an_id_older_than_what_is_kept_asks_for_a_reload(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(memory, "KEPT_EVENTS", 3)
    monkeypatch.setattr(memory, "KEPT_SECONDS", -1.0)
    bus = InMemoryEventBus()
    watcher = await bus.subscribe(ALICE, everyone=False, after=None, capacity=100)
    for _ in range(5):
        await bus.publish(created(ALICE))
    ids = [d.id for d in await drain(watcher, 5)]
    old = await bus.subscribe(ALICE, everyone=False, after=ids[0], capacity=10)
    assert isinstance(await old.receive(), Reset)
    kept = await bus.subscribe(ALICE, everyone=False, after=ids[1], capacity=10)
    assert [d.id for d in await drain(kept, 3)] == ids[2:]


async def test_a_subscriber_that_falls_behind_is_dropped_but_hears_of_its_logout() -> None:
    bus = InMemoryEventBus()
    slow = await bus.subscribe(ALICE, everyone=False, after=None, capacity=3)
    for _ in range(4):
        await bus.publish(created(ALICE))
    with pytest.raises(SubscriberTooSlow):
        await slow.receive()
    other = await bus.subscribe(ALICE, everyone=False, after=None, capacity=3)
    await bus.publish(SessionsEnded(ALICE))
    await bus.publish(SessionsEnded(BOB))
    assert await other.receive() == SessionsEnded(ALICE)
