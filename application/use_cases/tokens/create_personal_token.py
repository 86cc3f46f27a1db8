from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, UnitOfWorkFactory
from domain.errors import AuthenticationFailed
from domain.personal_token import DEFAULT_DAYS, PersonalToken, Scope
from domain.security_event import NOWHERE, Origin, SecurityEvent, SecurityEventType
from domain.user import User


@dataclass(frozen=True, slots=True)
class CreatePersonalTokenCommand:
    actor: User  # as read when the request was authenticated
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
    the token. Stored only while the caller's sessions have not ended since the request
    was authenticated: a password change or logout of every session meanwhile makes it a
    401, so no token outlives the change that should have stopped its maker."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def execute(self, command: CreatePersonalTokenCommand) -> CreatedPersonalToken:
        now = self._clock.now()
        token, text = PersonalToken.issue(
            user_id=command.actor.id,
            name=command.name,
            scopes=command.scopes,
            days=command.expires_in_days,
            now=now,
        )
        async with self._uow_factory() as uow:
            # Locked until the commit: a change that ends sessions waits, then ends this too.
            user = await uow.users.get(command.actor.id, for_update=True)
            if (
                user is None
                or not user.is_active
                or user.sessions_valid_after != command.actor.sessions_valid_after
            ):
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
