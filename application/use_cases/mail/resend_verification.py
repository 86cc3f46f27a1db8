from __future__ import annotations

from dataclasses import dataclass

from application.ports import RateLimiter, UnitOfWorkFactory
from application.use_cases.mail.limits import verification_key
from domain.errors import TooManyAttempts
from domain.events import VerificationRequested
from domain.user import User


@dataclass(frozen=True, slots=True)
class ResendVerificationCommand:
    actor: User


class ResendVerification:
    """A new verification mail for the caller, at most three an hour (the one sent at
    registration or at a change of address counts), however many requests arrive at once:
    each is counted, atomically, before it is recorded. Nothing when the address is
    verified already."""

    def __init__(self, uow_factory: UnitOfWorkFactory, limiter: RateLimiter) -> None:
        self._uow_factory = uow_factory
        self._limiter = limiter

    async def execute(self, command: ResendVerificationCommand) -> None:
        user = command.actor
        if user.is_verified:
            return
        wait = await self._limiter.hit(verification_key(user.id))
        if wait is not None:
            raise TooManyAttempts(wait, "Too many verification mails: try again later")
        async with self._uow_factory() as uow:
            uow.emit(VerificationRequested(user.id, str(user.email), counted=True))
            await uow.commit()
