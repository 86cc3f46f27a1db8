from __future__ import annotations

import copy
from dataclasses import dataclass

from application.ports import Clock, UnitOfWork, UnitOfWorkFactory
from application.retries import LOST, Lost, until_stored
from application.use_cases.mail.tokens import usable_token
from domain.errors import InvalidToken
from domain.one_time_token import TokenPurpose
from domain.security_event import NOWHERE, Origin, SecurityEvent, SecurityEventType
from domain.session import token_digest
from domain.user import UserBusy


@dataclass(frozen=True, slots=True)
class VerifyEmailCommand:
    token: str
    origin: Origin = NOWHERE


class VerifyEmail:
    """Mark the address a verification token was mailed to as verified. The token works
    once, and only while the account still has that address."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def execute(self, command: VerifyEmailCommand) -> None:
        token = command.token
        digest = token_digest(token)

        async def attempt(uow: UnitOfWork, lock: bool) -> Lost | None:
            record, user = await usable_token(
                uow, digest, TokenPurpose.EMAIL_VERIFICATION, self._clock, lock=lock
            )
            now = self._clock.now()
            if not await uow.one_time_tokens.use(record.id, now):
                raise InvalidToken()
            await uow.one_time_tokens.use_all(user.id, TokenPurpose.EMAIL_VERIFICATION, now)
            verified = copy.copy(user)
            verified.is_verified = True
            verified.touch(now)
            # Only while the address is still the one the token was mailed to.
            if not await uow.users.update(user, verified):
                return LOST
            await uow.security_events.add(
                SecurityEvent.record(
                    SecurityEventType.EMAIL_VERIFIED,
                    user_id=user.id,
                    actor_id=user.id,
                    origin=command.origin,
                    at=now,
                )
            )
            return None

        await until_stored(self._uow_factory, attempt, UserBusy)
