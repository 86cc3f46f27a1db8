from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

from application.ports import Clock, TokenService, UnitOfWork, UnitOfWorkFactory
from application.use_cases.sessions.login import TokenPair, start_session
from domain.errors import AuthenticationFailed
from domain.events import SessionsEnded
from domain.security_event import NOWHERE, Origin, SecurityEvent, SecurityEventType
from domain.session import RefreshSession, token_digest


@dataclass(frozen=True, slots=True)
class RefreshTokensCommand:
    refresh_token: str
    origin: Origin = NOWHERE


class RefreshTokens:
    """Trade a refresh token for a new pair. Each refresh token works once: it is spent by
    the exchange. Presenting a spent one again means it leaked, so its whole family ends,
    the newest token included. The user must still be active, and the token issued after
    the user's sessions were last ended."""

    def __init__(self, uow_factory: UnitOfWorkFactory, tokens: TokenService, clock: Clock):
        self._uow_factory = uow_factory
        self._tokens = tokens
        self._clock = clock

    async def execute(self, command: RefreshTokensCommand) -> TokenPair:
        refresh_token = command.refresh_token
        claims = self._tokens.decode_refresh(refresh_token)
        now = self._clock.now()
        async with self._uow_factory() as uow:
            session = await uow.sessions.get_by_token_hash(token_digest(refresh_token))
            if session is None or session.user_id != claims.user_id:
                raise AuthenticationFailed()
            if session.is_spent:
                await self._end_family(uow, session, now, command.origin)  # a replay
            if not session.is_live(now):
                raise AuthenticationFailed()  # expired or revoked
            user = await uow.users.get(session.user_id)
            if user is None or not user.is_active or claims.issued_at < user.sessions_valid_after:
                raise AuthenticationFailed()
            # The next session first: storing it share-locks the user's row, which every
            # change that ends sessions locks before it ends them. One order, no deadlock.
            pair = await start_session(
                uow,
                self._tokens,
                self._clock,
                user,
                session.family_id,
                origin=command.origin,
                started_at=session.started_at or session.created_at,
            )
            if not await uow.sessions.spend(session.id, now):
                # Two uses of one token at once: end the family, the session just added too.
                await self._end_family(uow, session, now, command.origin, added_one=True)
            await uow.commit()
        return pair

    @staticmethod
    async def _end_family(
        uow: UnitOfWork,
        session: RefreshSession,
        now: datetime,
        origin: Origin,
        *,
        added_one: bool = False,
    ) -> NoReturn:
        """Recorded by the replay that ended a live family: replaying a token of a family
        that is over already (the attacker's next try, or the other losers of a race) adds
        no row. ``added_one``: this transaction added a session to the family, which it
        ends too and which does not count."""
        ended = await uow.sessions.revoke_family(session.family_id, now)
        if ended > (1 if added_one else 0):
            await uow.security_events.add(
                SecurityEvent.record(
                    SecurityEventType.REFRESH_TOKEN_REUSED,
                    user_id=session.user_id,
                    actor_id=None,
                    origin=origin,
                    at=now,
                    details={"session_id": str(session.family_id)},
                )
            )
        uow.emit(SessionsEnded(session.user_id))
        await uow.commit()
        raise AuthenticationFailed()
