"""The Redis event bus against a real redis-server: two buses stand for two processes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from adapters.live import redis as redis_bus
from adapters.live.redis import RedisEventBus
from application.ports import Delivery, Notice, Reset, Subscription
from domain.events import ItemCreated, ItemDeleted, ItemUpdated, SessionsEnded

ALICE, BOB = uuid.uuid4(), uuid.uuid4()


@pytest.fixture
async def buses(redis_url: str, key_prefix: str) -> AsyncIterator[tuple[RedisEventBus, ...]]:
    both = (
        RedisEventBus(redis_url, prefix=key_prefix),
        RedisEventBus(redis_url, prefix=key_prefix),
    )
    yield both
    for bus in both:
        await bus.close()


def created(owner: uuid.UUID) -> ItemCreated:
    return ItemCreated(uuid.uuid4(), owner, 1, "t", None, "a", "a")


def updated(event: ItemCreated, version: int) -> ItemUpdated:
    return ItemUpdated(event.item_id, event.owner_id, version, f"v{version}", None, "a", "b")


async def receive(subscription: Subscription) -> Notice:
    return await asyncio.wait_for(subscription.receive(), 5)


async def deliveries(subscription: Subscription, count: int) -> list[Delivery]:
    out = []
    for _ in range(count):
        notice = await receive(subscription)
        assert isinstance(notice, Delivery)
        out.append(notice)
    return out


async def test_an_event_published_by_one_process_reaches_subscribers_of_another(
    buses: tuple[RedisEventBus, RedisEventBus],
) -> None:
    here, there = buses
    alice = await there.subscribe(ALICE, everyone=False, after=None, capacity=10)
    admin = await there.subscribe(uuid.uuid4(), everyone=True, after=None, capacity=10)
    mine, bobs = created(ALICE), created(BOB)
    await here.publish(mine)
    await here.publish(bobs)
    assert [d.event for d in await deliveries(alice, 1)] == [mine]
    assert [d.event for d in await deliveries(admin, 2)] == [mine, bobs]
    await here.publish(SessionsEnded(ALICE))
    assert await receive(alice) == SessionsEnded(ALICE)


async def test_repeats_and_overtaken_events_are_dropped_across_processes(
    buses: tuple[RedisEventBus, RedisEventBus],
) -> None:
    here, there = buses
    alice = await here.subscribe(ALICE, everyone=False, after=None, capacity=10)
    item = created(ALICE)
    await here.publish(item)
    await there.publish(item)
    await there.publish(updated(item, 3))
    await here.publish(updated(item, 2))
    await here.publish(updated(item, 3))
    gone = ItemDeleted(item.item_id, ALICE, 2, "z")
    await there.publish(gone)
    await here.publish(updated(item, 4))
    marker = created(ALICE)
    await here.publish(marker)
    events = [d.event for d in await deliveries(alice, 4)]
    assert events == [item, updated(item, 3), gone, marker]


async def test_a_reconnect_replays_exactly_what_was_missed(
    buses: tuple[RedisEventBus, RedisEventBus],
) -> None:
    here, there = buses
    first = await there.subscribe(ALICE, everyone=False, after=None, capacity=10)
    events = [created(ALICE) for _ in range(5)]
    for event in events[:2]:
        await here.publish(event)
    seen = await deliveries(first, 2)
    first.close()
    for event in events[2:]:
        await here.publish(event)
    await here.publish(created(BOB))
    again = await there.subscribe(ALICE, everyone=False, after=seen[-1].id, capacity=10)
    late = created(ALICE)
    await here.publish(late)
    replayed = await deliveries(again, 4)
    assert [d.event for d in replayed] == [*events[2:], late]
    assert len({d.id for d in [*seen, *replayed]}) == 6


@pytest.mark.parametrize("after", ["nonsense", "99999999999999-1"])
async def test_an_id_not_of_the_stream_asks_for_a_reload(
    buses: tuple[RedisEventBus, RedisEventBus], after: str
) -> None:
    here, _ = buses
    await here.publish(created(ALICE))
    subscription = await here.subscribe(ALICE, everyone=False, after=after, capacity=10)
    assert isinstance(await receive(subscription), Reset)


async def test_an_id_older_than_what_is_kept_asks_for_a_reload(
    buses: tuple[RedisEventBus, RedisEventBus], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_bus, "KEPT_EVENTS", 10)
    monkeypatch.setattr(redis_bus, "KEPT_SECONDS", -1.0)
    here, _ = buses
    watcher = await here.subscribe(ALICE, everyone=False, after=None, capacity=100)
    for _ in range(12):
        await here.publish(created(ALICE))
    ids = [d.id for d in await deliveries(watcher, 12)]
    old = await here.subscribe(ALICE, everyone=False, after=ids[0], capacity=10)
    assert isinstance(await receive(old), Reset)
    kept = await here.subscribe(ALICE, everyone=False, after=ids[1], capacity=20)
    assert [d.id for d in await deliveries(kept, 10)] == ids[2:]


async def test_at_least_the_newest_events_are_kept_whatever_their_age(
    buses: tuple[RedisEventBus, RedisEventBus], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_bus, "KEPT_EVENTS", 10)
    monkeypatch.setattr(redis_bus, "KEPT_SECONDS", -1.0)
    here, _ = buses
    watcher = await here.subscribe(ALICE, everyone=False, after=None, capacity=100)
    for _ in range(40):
        await here.publish(created(ALICE))
    ids = [d.id for d in await deliveries(watcher, 40)]
    kept = await here.subscribe(ALICE, everyone=False, after=ids[-11], capacity=20)
    assert [d.id for d in await deliveries(kept, 10)] == ids[-10:]
