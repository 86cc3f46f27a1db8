"""Housekeeping: what can no longer be used is deleted, so the tables stop growing."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from application.ports import Clock, UnitOfWorkFactory

logger = logging.getLogger("keel.jobs")


@dataclass(frozen=True, slots=True)
class Deleted:
    sessions: int
    tokens: int


@dataclass(frozen=True, slots=True)
class DeleteExpiredCommand:
    """A run takes no input: it deletes what has expired by its clock."""


class DeleteExpired:
    """Delete the refresh sessions and one-time tokens that have expired. A spent or
    revoked session is kept until it expires, so that a replayed refresh token is still
    recognised and ends its family; an expired one is refused either way. Safe to run twice
    or from several workers at once: each run deletes what is expired by then."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def execute(self, command: DeleteExpiredCommand) -> Deleted:
        now = self._clock.now()
        async with self._uow_factory() as uow:
            sessions = await uow.sessions.delete_expired(now)
            tokens = await uow.one_time_tokens.delete_expired(now)
            await uow.commit()
        deleted = Deleted(sessions=sessions, tokens=tokens)
        if sessions or tokens:
            logger.info(
                "expired sessions and tokens deleted",
                extra={"sessions": sessions, "tokens": tokens},
            )
        return deleted
