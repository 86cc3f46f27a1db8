from __future__ import annotations

import uuid
from dataclasses import dataclass

from application.ports import Clock, UnitOfWorkFactory
from domain.errors import NotFound
from domain.security_event import NOWHERE, Origin, SecurityEvent, SecurityEventType


class PersonalTokenNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Token not found")


@dataclass(frozen=True, slots=True)
class RevokePersonalTokenCommand:
    user_id: uuid.UUID
    token_id: uuid.UUID
    origin: Origin = NOWHERE


class RevokePersonalToken:
    """Revoke one of the caller's tokens; it stops at once (every use reads it). Another
    user's token, and one revoked already, are ``PersonalTokenNotFound``."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def execute(self, command: RevokePersonalTokenCommand) -> None:
        now = self._clock.now()
        async with self._uow_factory() as uow:
            if not await uow.personal_tokens.revoke(command.token_id, command.user_id, now):
                raise PersonalTokenNotFound()
            await uow.security_events.add(
                SecurityEvent.record(
                    SecurityEventType.TOKEN_REVOKED,
                    user_id=command.user_id,
                    actor_id=command.user_id,
                    origin=command.origin,
                    at=now,
                    details={"pat_id": str(command.token_id)},
                )
            )
            await uow.commit()
