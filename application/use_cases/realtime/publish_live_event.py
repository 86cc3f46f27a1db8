"""Live events to the connected clients: the handler of their outbox jobs, and the quick
publication right after the commit that the job only backs up."""

from __future__ import annotations

import asyncio
import logging

from application.ports import EventBus
from domain.events import LiveEvent, OwnerItemsDeleted

logger = logging.getLogger("keel.live")

# A request does not wait long on its quick publication: the outbox job delivers it anyway.
QUICK_PUBLISH_SECONDS = 0.25


class PublishLiveEvent:
    """Hand a committed change to the event bus. Run by the event's outbox job, so that
    every committed change is delivered (at least once: the bus drops repeats) and none
    that was rolled back ever is."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus

    async def __call__(self, event: LiveEvent) -> None:
        await self._bus.publish(event)


class PublishItemsDeleted:
    """Hand the deletions of one chunk of a deleted owner's items to the event bus, one
    ``item.deleted`` each. Run again after a failure, the chunk's events already published
    are dropped as repeats."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus

    async def __call__(self, chunk: OwnerItemsDeleted) -> None:
        for event in chunk.each():
            await self._bus.publish(event)


async def publish_quickly(bus: EventBus | None, events: list[LiveEvent]) -> None:
    """Right after the commit, so that clients hear of it within milliseconds rather than
    at the job queue's pace. A failure here costs only that speed: the outbox job that was
    committed with the change publishes it again."""
    if bus is None:
        return
    try:
        async with asyncio.timeout(QUICK_PUBLISH_SECONDS):
            for event in events:
                await bus.publish(event)
    except Exception as exc:  # the outbox job delivers it: never fail the committed request
        logger.warning("live event left to its job", extra={"error": repr(exc)})
