"""Handle what the outbox holds: each entry at least once, failures tried again later."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

from application.outbox import decode
from application.ports import Clock, OutboxEntry, UnitOfWorkFactory

logger = logging.getLogger("keel.jobs")

Handler = Callable[[Any], Awaitable[None]]

# A claimed entry is hidden from other runners this long: one whose runner died mid-way is
# handled again once it ends. Longer than any handler takes (mail has its own timeout).
LEASE = timedelta(minutes=2)
# Tried again after 10 s, 20 s, 40 s ... capped at an hour, 14 attempts in all: about six
# hours, so a mail server down for minutes (or hours) delays mail and loses none.
FIRST_RETRY = timedelta(seconds=10)
LONGEST_PAUSE = timedelta(hours=1)
ATTEMPTS = 14
BATCH = 20


def pause_after(attempts: int) -> timedelta:
    doublings = min(max(attempts - 1, 0), 20)  # 10 s * 2**20 is well past the cap
    return min(FIRST_RETRY * (1 << doublings), LONGEST_PAUSE)


class ProcessOutbox:
    """Claim the due entries, run each one's handler, and settle it: removed when handled,
    tried again after a growing pause when the handler failed, kept as failed (never tried
    again by itself) after the last attempt. An entry this code cannot read fails at once."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        handlers: Mapping[type[Any], Handler],
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._handlers = dict(handlers)

    async def run_once(self) -> int:
        """Handle one batch; how many entries it held."""
        async with self._uow_factory() as uow:
            entries = await uow.outbox.claim(self._clock.now(), LEASE, BATCH)
            await uow.commit()
        for entry in entries:
            await self._handle(entry)
        return len(entries)

    async def _handle(self, entry: OutboxEntry) -> None:
        try:
            event = decode(entry.kind, entry.payload)
            handler = self._handlers[type(event)]
        except (KeyError, ValueError, TypeError) as exc:
            await self._settle(entry, error=f"unreadable entry: {exc!r}", final=True)
            return
        try:
            await handler(event)
        except Exception as exc:  # any failure of a handler is tried again later
            final = entry.attempts >= ATTEMPTS
            log = logger.error if final else logger.warning
            log(
                "background job failed",
                extra={"kind": entry.kind, "attempt": entry.attempts, "error": repr(exc)},
            )
            await self._settle(entry, error=repr(exc)[:2000], final=final)
            return
        await self._settle(entry, error=None, final=True)

    async def _settle(self, entry: OutboxEntry, *, error: str | None, final: bool) -> None:
        now = self._clock.now()
        async with self._uow_factory() as uow:
            if error is None:
                await uow.outbox.done(entry.id)
            elif final:
                await uow.outbox.fail(entry.id, now, error)
            else:
                await uow.outbox.retry(entry.id, now + pause_after(entry.attempts), error)
            await uow.commit()
