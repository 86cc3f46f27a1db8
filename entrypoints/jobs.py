"""Background jobs run from the outbox by a long-lived loop: in each serving process (unless
``JOBS_IN_PROCESS`` is off) and in ``keel worker``."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from application.errors import StorageUnavailable
from application.use_cases.process_outbox import ProcessOutbox

logger = logging.getLogger("keel.jobs")

# How often an idle runner looks for work that another process recorded; work recorded by
# this process wakes it at once.
IDLE_PAUSE_SECONDS = 0.5
# After the database failed: not a tight loop of errors.
OUTAGE_PAUSE_SECONDS = 2.0
# How long a stop waits for the batch in hand; what is cut off is handled again once its
# lease ends.
STOP_GRACE_SECONDS = 10.0


class OutboxRunner:
    def __init__(
        self, process: ProcessOutbox, wakeup: asyncio.Event, *, concurrency: int = 1
    ) -> None:
        self._process = process
        self._wakeup = wakeup
        self._concurrency = concurrency
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._loop()) for _ in range(self._concurrency)]

    async def stop(self) -> None:
        self._stopping.set()
        self._wakeup.set()
        _, pending = await asyncio.wait(self._tasks, timeout=STOP_GRACE_SECONDS)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            pause = IDLE_PAUSE_SECONDS
            try:
                if await self._process.run_once():
                    continue
            except StorageUnavailable:
                logger.warning("background jobs paused: the database is unavailable")
                pause = OUTAGE_PAUSE_SECONDS
            except Exception:
                logger.exception("background job runner failed; going on")
                pause = OUTAGE_PAUSE_SECONDS
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), pause)
