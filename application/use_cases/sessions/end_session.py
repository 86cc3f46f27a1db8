from __future__ import annotations

import uuid
from dataclasses import dataclass

from application.ports import Clock, EventBus, UnitOfWorkFactory
from application.use_cases.realtime.publish_live_event import publish_quickly
from domain.errors import NotFound
from domain.events import SessionsEnded
from domain.security_event import NOWHERE, Origin, SecurityEvent, SecurityEventType


class SessionNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Session not found")


@dataclass(frozen=True, slots=True)
class EndSessionCommand:
    user_id: uuid.UUID
    session_id: uuid.UUID
    origin: Origin = NOWHERE


class EndSession:
    """End one of the caller's sessions, from any of their devices: its refresh tokens
    stop, its access tokens stop at once (each request checks its session), and its live
    sockets close. Another user's session, and one that is over already, are
    ``SessionNotFound``: only a call that ended it answers success, and records it."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, clock: Clock, live: EventBus | None = None
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._live = live

    async def execute(self, command: EndSessionCommand) -> None:
        now = self._clock.now()
        async with self._uow_factory() as uow:
            # Waits for a rotation of the family in flight, and ends the token it adds.
            ended = await uow.sessions.revoke_family(
                command.session_id, now, of_user=command.user_id
            )
            if not ended:
                raise SessionNotFound()
            await uow.security_events.add(
                SecurityEvent.record(
                    SecurityEventType.SESSION_ENDED,
                    user_id=command.user_id,
                    actor_id=command.user_id,
                    origin=command.origin,
                    at=now,
                    details={"session_id": str(command.session_id), "from": "sessions_list"},
                )
            )
            event = SessionsEnded(command.user_id)
            uow.emit(event)
            await uow.commit()
        await publish_quickly(self._live, [event])
