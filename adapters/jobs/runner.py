"""Running the jobs in this process: the relay hands the outbox to the queue, procrastinate's
worker runs what is due, and a job whose worker stopped answering (killed, or cut off) is
handed back to the queue for another. When the database goes away, it all waits and starts
again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, Protocol

import procrastinate
from procrastinate.worker import Worker

from adapters.jobs.names import QUEUE

logger = logging.getLogger("keel.jobs")

# How often an idle relay looks for entries that another process committed; a commit in
# this process wakes it at once.
RELAY_IDLE_SECONDS = 0.5
# Each worker marks itself alive this often; a job whose worker has not done so for
# STALLED_AFTER_SECONDS (killed, or its machine gone) is handed back, checked this often.
HEARTBEAT_SECONDS = 2.0
STALLED_AFTER_SECONDS = 15.0
STALLED_CHECK_SECONDS = 5.0
# A stop waits this long for the jobs in hand (a mail's own timeout is shorter); what is
# still running then is aborted and handed back.
STOP_GRACE_SECONDS = 10.0
# After the database failed: not a tight loop of errors.
OUTAGE_PAUSE_SECONDS = 2.0


class Relay(Protocol):
    batch: int

    async def run_once(self) -> list[str]:
        """Hand up to ``batch`` outbox entries to the queue; the kinds handed over."""
        ...


class JobRunner:
    def __init__(
        self,
        app: procrastinate.App,
        relay: Relay,
        *,
        concurrency: int = 1,
        wakeup: asyncio.Event | None = None,
        on_enqueued: Callable[[str], None] = lambda kind: None,
    ) -> None:
        self._app = app
        self._relay = relay
        self._concurrency = concurrency
        self._wakeup = wakeup or asyncio.Event()
        self._on_enqueued = on_enqueued
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._worker: Worker | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="keel jobs")

    async def stop(self) -> None:
        """Finish the jobs in hand (up to a grace period), then return.

        A running worker is asked to stop, not cancelled: a cancellation that lands while
        its start-up talks to the database can be swallowed there (psycopg's pool), leaving
        it waiting for ever. The request is repeated until it takes (one made before the
        worker started would be forgotten), and only a worker still not done long after its
        grace period is cancelled. Connecting, or pausing after an outage, is cancelled at
        once (again, should the first be swallowed)."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        deadline = asyncio.get_running_loop().time() + STOP_GRACE_SECONDS + 5
        while not task.done():
            if self._worker is None:  # connecting, or waiting out an outage: nothing in hand
                task.cancel()
            elif asyncio.get_running_loop().time() < deadline:
                self._worker.stop()  # type: ignore[no-untyped-call]
            else:
                logger.error("background jobs did not stop in time; cancelled")
                task.cancel()
            await asyncio.wait({task}, timeout=0.2)
        with contextlib.suppress(asyncio.CancelledError):
            await task
        # A stop while the queue's pool was opening leaves it half open, its connecting
        # tasks alive: the event loop's shutdown would then wait for them for ever. Closing
        # it again once the worker closed it itself does nothing.
        await self._app.connector.close_async()

    async def drain(self) -> None:
        """Relay everything and run every job that is due, then return: one-off runs and
        the fast tests."""
        async with self._app.open_async():
            while await self._relay_once():
                pass
            await self._app.run_worker_async(**self._worker_options(), wait=False)

    def _worker_options(self) -> dict[str, Any]:
        return {
            "queues": [QUEUE],
            "concurrency": self._concurrency,
            "install_signal_handlers": False,  # the process's own stop calls stop()
            "update_heartbeat_interval": HEARTBEAT_SECONDS,
            "stalled_worker_timeout": STALLED_AFTER_SECONDS,
            "fetch_job_polling_interval": 1.0,
            "shutdown_graceful_timeout": STOP_GRACE_SECONDS,
        }

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                async with self._app.open_async():
                    if not self._stopping.is_set():
                        await self._run_worker()
                        if not self._stopping.is_set():
                            logger.warning("job worker stopped by itself; starting it again")
            except Exception as exc:
                logger.warning("background jobs paused", extra={"error": repr(exc)})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), OUTAGE_PAUSE_SECONDS)

    async def _run_worker(self) -> None:
        side = [
            asyncio.create_task(self._relay_loop(), name="keel jobs relay"),
            asyncio.create_task(self._stalled_loop(), name="keel jobs stalled"),
        ]
        self._worker = Worker(app=self._app, **self._worker_options())
        try:
            await self._worker.run()  # type: ignore[no-untyped-call]
        finally:
            self._worker = None
            for task in side:
                task.cancel()
            await asyncio.gather(*side, return_exceptions=True)

    async def _relay_once(self) -> int:
        kinds = await self._relay.run_once()
        for kind in kinds:
            self._on_enqueued(kind)
        return len(kinds)

    async def _relay_loop(self) -> None:
        while True:
            pause = RELAY_IDLE_SECONDS
            try:
                if await self._relay_once() == self._relay.batch:
                    continue
            except Exception as exc:
                logger.warning("outbox relay paused", extra={"error": repr(exc)})
                pause = OUTAGE_PAUSE_SECONDS
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), pause)

    async def _stalled_loop(self) -> None:
        manager = self._app.job_manager
        while True:
            await asyncio.sleep(STALLED_CHECK_SECONDS)
            try:
                stalled = await manager.get_stalled_jobs(
                    seconds_since_heartbeat=STALLED_AFTER_SECONDS
                )
                for job in stalled:
                    try:
                        await manager.retry_job(job)
                    except Exception as exc:  # another worker handed it back first
                        logger.debug("stalled job not handed back", extra={"error": repr(exc)})
                        continue
                    logger.warning(
                        "job handed back: its worker stopped answering",
                        extra={"kind": job.task_name, "job_id": job.id},
                    )
            except Exception as exc:
                logger.warning("stalled-job check failed", extra={"error": repr(exc)})
