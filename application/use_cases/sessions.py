"""Refresh-token rotation with reuse detection, and the ways a session ends."""

from __future__ import annotations

import copy
import uuid
from datetime import datetime
from typing import NoReturn

from application.ports import Clock, TokenService, UnitOfWork, UnitOfWorkFactory
from application.retries import LOST, Lost, until_stored
from application.use_cases.login import TokenPair, start_session
from domain.errors import AuthenticationFailed
from domain.session import token_digest
from domain.user import User, UserBusy


class RefreshTokens:
    """Trade a refresh token for a new pair. Each refresh token works once: it is spent by
    the exchange. Presenting a spent one again means it leaked, so its whole family ends,
    the newest token included. The user must still be active, and the token issued after
    the user's sessions were last ended."""

    def __init__(self, uow_factory: UnitOfWorkFactory, tokens: TokenService, clock: Clock):
        self._uow_factory = uow_factory
        self._tokens = tokens
        self._clock = clock

    async def execute(self, refresh_token: str) -> TokenPair:
        claims = self._tokens.decode_refresh(refresh_token)
        now = self._clock.now()
        async with self._uow_factory() as uow:
            session = await uow.sessions.get_by_token_hash(token_digest(refresh_token))
            if session is None or session.user_id != claims.user_id:
                raise AuthenticationFailed()
            if session.is_spent:
                await self._end_family(uow, session.family_id, now)  # a replay
            if not session.is_live(now):
                raise AuthenticationFailed()  # expired or revoked
            user = await uow.users.get(session.user_id)
            if user is None or not user.is_active or claims.issued_at < user.sessions_valid_after:
                raise AuthenticationFailed()
            # The next session first: storing it share-locks the user's row, which every
            # change that ends sessions locks before it ends them. One order, no deadlock.
            pair = await start_session(uow, self._tokens, self._clock, user, session.family_id)
            if not await uow.sessions.spend(session.id, now):
                # Two uses of one token at once: end the family, the session just added too.
                await self._end_family(uow, session.family_id, now)
            await uow.commit()
        return pair

    @staticmethod
    async def _end_family(uow: UnitOfWork, family_id: uuid.UUID, now: datetime) -> NoReturn:
        await uow.sessions.revoke_family(family_id, now)
        await uow.commit()
        raise AuthenticationFailed()


class Logout:
    """End the session a refresh token belongs to (its whole family). Ending one that is
    already over is not an error."""

    def __init__(self, uow_factory: UnitOfWorkFactory, tokens: TokenService, clock: Clock):
        self._uow_factory = uow_factory
        self._tokens = tokens
        self._clock = clock

    async def execute(self, refresh_token: str) -> None:
        self._tokens.decode_refresh(refresh_token)
        async with self._uow_factory() as uow:
            session = await uow.sessions.get_by_token_hash(token_digest(refresh_token))
            if session is None:
                raise AuthenticationFailed()
            await uow.sessions.revoke_family(session.family_id, self._clock.now())
            await uow.commit()


class LogoutAll:
    """End every session of the caller: refresh tokens are revoked and access tokens stop
    working at once."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock):
        self._uow_factory = uow_factory
        self._clock = clock

    async def execute(self, actor: User) -> None:
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
            return None

        await until_stored(self._uow_factory, attempt, UserBusy)
