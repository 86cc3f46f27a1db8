"""Housekeeping: what can no longer be used is deleted, so the tables stop growing."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.ports import Clock, UnitOfWorkFactory

logger = logging.getLogger("keel.jobs")


@dataclass(frozen=True, slots=True)
class Deleted:
    sessions: int
    tokens: int
    security_events: int = 0


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
    for long nor builds one huge transaction."""

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
        events = await self._delete_old_events(now - self._retention)
        deleted = Deleted(sessions=sessions, tokens=tokens, security_events=events)
        if sessions or tokens or events:
            logger.info(
                "expired sessions, tokens and security events deleted",
                extra={"sessions": sessions, "tokens": tokens, "security_events": events},
            )
        return deleted

    async def _delete_old_events(self, cutoff: datetime) -> int:
        total = 0
        while True:
            async with self._uow_factory() as uow:
                count = await uow.security_events.delete_older_than(cutoff, self._batch_size)
                await uow.commit()
            total += count
            if count < self._batch_size:
                return total
