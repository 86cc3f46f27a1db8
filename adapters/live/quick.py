"""The publication right after a commit, off the request's path.

A use case hands its committed events here and answers at once; one task per process
publishes them in order. The outbox job committed with each change delivers it anyway, so
this path may drop what it cannot do quickly: while the bus is failing (Redis unreachable)
it pauses for a few seconds after each failure and drops what comes meanwhile, and a
backlog past its capacity is dropped too. A write never waits on the bus."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque

from application.ports import EventBus, Subscription
from domain.events import LiveEvent

logger = logging.getLogger("keel.live")

CAPACITY = 1_000
PUBLISH_SECONDS = 0.25
PAUSE_SECONDS = 5.0


class QuickPublisher:
    """An ``EventBus`` whose ``publish`` only queues (or drops) the event; subscribing is
    the wrapped bus's."""

    def __init__(
        self,
        bus: EventBus,
        *,
        capacity: int = CAPACITY,
        publish_seconds: float = PUBLISH_SECONDS,
        pause_seconds: float = PAUSE_SECONDS,
    ) -> None:
        self._bus = bus
        self._capacity = capacity
        self._publish_seconds = publish_seconds
        self._pause_seconds = pause_seconds
        self._queue: deque[LiveEvent] = deque()
        self._paused_until = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self.skipped = 0

    async def publish(self, event: LiveEvent) -> None:
        if time.monotonic() < self._paused_until or len(self._queue) >= self._capacity:
            self.skipped += 1
            return
        self._queue.append(event)
        self._running().set()

    def _running(self) -> asyncio.Event:
        loop = asyncio.get_running_loop()
        # A new loop (the app started again, in tests): a new task and event of its own.
        if self._loop is not loop or self._wake is None or self._task is None or self._task.done():
            self._loop, self._wake = loop, asyncio.Event()
            self._task = loop.create_task(self._run(self._wake), name="keel quick publication")
        return self._wake

    async def _run(self, wake: asyncio.Event) -> None:
        while True:
            while not self._queue:
                wake.clear()
                await wake.wait()
            event = self._queue.popleft()
            try:
                async with asyncio.timeout(self._publish_seconds):
                    await self._bus.publish(event)
            except Exception as exc:
                self._paused_until = time.monotonic() + self._pause_seconds
                self.skipped += len(self._queue) + 1
                self._queue.clear()
                logger.warning(
                    "live events left to their jobs for a while", extra={"error": repr(exc)}
                )

    async def subscribe(
        self, user_id: uuid.UUID, *, everyone: bool, after: str | None, capacity: int
    ) -> Subscription:
        return await self._bus.subscribe(user_id, everyone=everyone, after=after, capacity=capacity)

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None and task.get_loop() is asyncio.get_running_loop():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
