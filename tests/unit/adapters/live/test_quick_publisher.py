"""The publication after a commit never makes the caller wait on the bus, keeps order, and
stops trying for a while once the bus fails (the outbox jobs deliver instead)."""

from __future__ import annotations

import asyncio
import uuid

from adapters.live.quick import QuickPublisher
from application.ports import Subscription
from domain.events import LiveEvent, SessionsEnded


class Bus:
    def __init__(self, *, hangs: bool = False) -> None:
        self.published: list[LiveEvent] = []
        self.hangs = hangs
        self.tries = 0

    async def publish(self, event: LiveEvent) -> None:
        self.tries += 1
        if self.hangs:
            await asyncio.Event().wait()
        self.published.append(event)

    async def subscribe(
        self, user_id: uuid.UUID, *, everyone: bool, after: str | None, capacity: int
    ) -> Subscription:
        raise NotImplementedError

    async def close(self) -> None:
        return None


async def settle(publisher: QuickPublisher) -> None:
    for _ in range(50):
        await asyncio.sleep(0)


async def test_events_are_published_in_order_after_the_caller_returns() -> None:
    bus = Bus()
    publisher = QuickPublisher(bus)
    events = [SessionsEnded(uuid.uuid4()) for _ in range(5)]
    for event in events:
        await publisher.publish(event)
    assert bus.published == []  # nothing was done on the caller's time
    await settle(publisher)
    assert bus.published == events
    await publisher.close()


async def test_a_hung_bus_pauses_the_publication_and_what_comes_meanwhile_is_dropped() -> None:
    bus = Bus(hangs=True)
    publisher = QuickPublisher(bus, publish_seconds=0.01, pause_seconds=3600)
    await publisher.publish(SessionsEnded(uuid.uuid4()))
    await asyncio.sleep(0.05)
    for _ in range(10):
        await publisher.publish(SessionsEnded(uuid.uuid4()))
    await settle(publisher)
    assert bus.tries == 1
    assert publisher.skipped == 11
    await publisher.close()


async def test_past_its_capacity_the_backlog_is_dropped() -> None:
    bus = Bus(hangs=True)
    publisher = QuickPublisher(bus, capacity=3, publish_seconds=3600)
    for _ in range(10):
        await publisher.publish(SessionsEnded(uuid.uuid4()))
    assert publisher.skipped == 7
    await publisher.close()
