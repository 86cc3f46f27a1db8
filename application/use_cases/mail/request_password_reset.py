from __future__ import annotations

import logging
from dataclasses import dataclass

from application.ports import EventRecorder, RateLimiter
from domain.email import Email
from domain.events import PasswordResetRequested

logger = logging.getLogger("keel.mail")


@dataclass(frozen=True, slots=True)
class RequestPasswordResetCommand:
    email: str


class RequestPasswordReset:
    """Ask for a reset link. The caller learns nothing either way: the answer is the same,
    and so is the work done before it: the request is counted, atomically, against the
    address it names (at most three an hour, however many arrive at once), and recorded.
    Whether the account exists is found out by the handler of the event, after the answer
    (``SendResetLink``)."""

    def __init__(self, events: EventRecorder, limiter: RateLimiter) -> None:
        self._events = events
        self._limiter = limiter

    async def execute(self, command: RequestPasswordResetCommand) -> None:
        email = Email(command.email)
        if await self._limiter.hit(f"mail:reset:{email.value}") is not None:
            logger.info("password reset mail withheld: hourly limit reached")
            return
        # Only the request is stored: one INSERT, no transaction around it.
        await self._events.record(PasswordResetRequested(email.value))
