from __future__ import annotations

import copy
from dataclasses import dataclass

from application.ports import Clock, EventBus, UnitOfWork, UnitOfWorkFactory
from application.retries import LOST, Lost, until_stored
from application.use_cases.realtime.publish_live_event import publish_quickly
from domain.errors import AuthenticationFailed
from domain.events import SessionsEnded
from domain.security_event import NOWHERE, Origin, SecurityEvent, SecurityEventType
from domain.user import User, UserBusy


@dataclass(frozen=True, slots=True)
class LogoutAllCommand:
    actor: User
    origin: Origin = NOWHERE


class LogoutAll:
    """End every session of the caller: refresh tokens are revoked and access tokens stop
    working at once."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock, live: EventBus | None = None):
        self._uow_factory = uow_factory
        self._clock = clock
        self._live = live

    async def execute(self, command: LogoutAllCommand) -> None:
        actor = command.actor
        now = self._clock.now()

        async def attempt(uow: UnitOfWork, lock: bool) -> Lost | None:
            user = await uow.users.get(actor.id, for_update=lock)
            if user is None:
                raise AuthenticationFailed()
            ended = copy.copy(user)
            ended.end_sessions(now)
            ended.touch(now)
            if not await uow.users.update(user, ended):
                return LOST
            # After the user's row: a login or rotation holding it has committed by now.
            await uow.sessions.revoke_user(user.id, now)
            uow.emit(SessionsEnded(user.id))
            await uow.security_events.add(
                SecurityEvent.record(
                    SecurityEventType.SESSIONS_ENDED,
                    user_id=user.id,
                    actor_id=actor.id,
                    origin=command.origin,
                    at=now,
                )
            )
            return None

        await until_stored(self._uow_factory, attempt, UserBusy)
        await publish_quickly(self._live, [SessionsEnded(actor.id)])
