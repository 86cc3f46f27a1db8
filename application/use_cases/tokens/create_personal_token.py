from __future__ import annotations

import uuid
from dataclasses import dataclass

from application.ports import Clock, UnitOfWorkFactory
from domain.errors import AuthenticationFailed
from domain.personal_token import DEFAULT_DAYS, PersonalToken, Scope
from domain.security_event import NOWHERE, Origin, SecurityEvent, SecurityEventType


@dataclass(frozen=True, slots=True)
class CreatePersonalTokenCommand:
    user_id: uuid.UUID
    name: str
    scopes: frozenset[Scope]
    expires_in_days: int = DEFAULT_DAYS
    origin: Origin = NOWHERE


@dataclass(frozen=True, slots=True)
class CreatedPersonalToken:
    token: PersonalToken
    text: str  # shown once, never stored


class CreatePersonalToken:
    """Issue a personal access token for the caller: ``keel_pat_`` and 256 random bits,
    returned once and stored as a digest. The trail records its id, name and scopes, never
    the token."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def execute(self, command: CreatePersonalTokenCommand) -> CreatedPersonalToken:
        now = self._clock.now()
        token, text = PersonalToken.issue(
            user_id=command.user_id,
            name=command.name,
            scopes=command.scopes,
            days=command.expires_in_days,
            now=now,
        )
        async with self._uow_factory() as uow:
            user = await uow.users.get(command.user_id)
            if user is None or not user.is_active:
                raise AuthenticationFailed()
            await uow.personal_tokens.add(token)
            await uow.security_events.add(
                SecurityEvent.record(
                    SecurityEventType.TOKEN_CREATED,
                    user_id=token.user_id,
                    actor_id=token.user_id,
                    origin=command.origin,
                    at=now,
                    details={
                        "pat_id": str(token.id),
                        "name": token.name,
                        "scopes": sorted(s.value for s in token.scopes),
                        "expires_at": token.expires_at.isoformat(),
                    },
                )
            )
            await uow.commit()
        return CreatedPersonalToken(token, text)
