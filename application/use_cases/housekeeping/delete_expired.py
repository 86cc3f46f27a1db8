"""Housekeeping: what can no longer be used is deleted, so the tables stop growing."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.ports import Clock, UnitOfWork, UnitOfWorkFactory

logger = logging.getLogger("keel.jobs")
PERSONAL_TOKEN_GRACE = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Deleted:
    sessions: int
    tokens: int
    security_events: int = 0
    personal_tokens: int = 0


@dataclass(frozen=True, slots=True)
class DeleteExpiredCommand:
    """A run takes no input: it deletes what has expired by its clock."""


class DeleteExpired:
    """Delete the refresh sessions and one-time tokens that have expired. A spent or
    revoked session is kept until it expires, so that a replayed refresh token is still
    recognised and ends its family; an expired one is refused either way. Safe to run twice
    or from several workers at once: each run deletes what is expired by then.

    Security events older than the retention (``AUDIT_RETENTION_DAYS``) go too, in batches
    of ``batch_size``, each its own short transaction: a year's backlog neither holds locks
    for long nor builds one huge transaction. So do personal access tokens expired or
    revoked more than ``PERSONAL_TOKEN_GRACE`` ago: kept that long so that their owner
    still sees them listed as ended, then gone."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        audit_retention_days: int = 365,
        batch_size: int = 1000,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._retention = timedelta(days=audit_retention_days)
        self._batch_size = batch_size

    async def execute(self, command: DeleteExpiredCommand) -> Deleted:
        now = self._clock.now()
        async with self._uow_factory() as uow:
            sessions = await uow.sessions.delete_expired(now)
            tokens = await uow.one_time_tokens.delete_expired(now)
            await uow.commit()
        events = await self._in_batches(self._old_events, now - self._retention)
        personal = await self._in_batches(self._ended_tokens, now - PERSONAL_TOKEN_GRACE)
        deleted = Deleted(
            sessions=sessions, tokens=tokens, security_events=events, personal_tokens=personal
        )
        if sessions or tokens or events or personal:
            logger.info(
                "expired sessions, tokens and security events deleted",
                extra={
                    "sessions": sessions,
                    "tokens": tokens,
                    "security_events": events,
                    "personal_tokens": personal,
                },
            )
        return deleted

    async def _in_batches(
        self, batch: Callable[[UnitOfWork, datetime], Awaitable[int]], cutoff: datetime
    ) -> int:
        total = 0
        while True:
            async with self._uow_factory() as uow:
                count = await batch(uow, cutoff)
                await uow.commit()
            total += count
            if count < self._batch_size:
                return total

    async def _old_events(self, uow: UnitOfWork, cutoff: datetime) -> int:
        return await uow.security_events.delete_older_than(cutoff, self._batch_size)

    async def _ended_tokens(self, uow: UnitOfWork, cutoff: datetime) -> int:
        return await uow.personal_tokens.delete_ended_before(cutoff, self._batch_size)
