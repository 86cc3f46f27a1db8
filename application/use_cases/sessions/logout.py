from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, EventBus, TokenService, UnitOfWorkFactory
from application.use_cases.realtime.publish_live_event import publish_quickly
from domain.errors import AuthenticationFailed
from domain.events import SessionsEnded
from domain.security_event import NOWHERE, Origin, SecurityEvent, SecurityEventType
from domain.session import token_digest


@dataclass(frozen=True, slots=True)
class LogoutCommand:
    refresh_token: str
    origin: Origin = NOWHERE


class Logout:
    """End the session a refresh token belongs to (its whole family). Ending one that is
    already over is not an error."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        tokens: TokenService,
        clock: Clock,
        live: EventBus | None = None,
    ):
        self._uow_factory = uow_factory
        self._tokens = tokens
        self._clock = clock
        self._live = live

    async def execute(self, command: LogoutCommand) -> None:
        refresh_token = command.refresh_token
        self._tokens.decode_refresh(refresh_token)
        async with self._uow_factory() as uow:
            session = await uow.sessions.get_by_token_hash(token_digest(refresh_token))
            if session is None:
                raise AuthenticationFailed()
            now = self._clock.now()
            if await uow.sessions.revoke_family(session.family_id, now):
                # Only the logout that ended it: one already over records nothing more.
                await uow.security_events.add(
                    SecurityEvent.record(
                        SecurityEventType.SESSION_ENDED,
                        user_id=session.user_id,
                        actor_id=session.user_id,
                        origin=command.origin,
                        at=now,
                        details={"session_id": str(session.family_id)},
                    )
                )
            # The user's live sockets check their tokens again: those of this session close.
            ended = SessionsEnded(session.user_id)
            uow.emit(ended)
            await uow.commit()
        await publish_quickly(self._live, [ended])
