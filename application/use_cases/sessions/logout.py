from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, TokenService, UnitOfWorkFactory
from domain.errors import AuthenticationFailed
from domain.session import token_digest


@dataclass(frozen=True, slots=True)
class LogoutCommand:
    refresh_token: str


class Logout:
    """End the session a refresh token belongs to (its whole family). Ending one that is
    already over is not an error."""

    def __init__(self, uow_factory: UnitOfWorkFactory, tokens: TokenService, clock: Clock):
        self._uow_factory = uow_factory
        self._tokens = tokens
        self._clock = clock

    async def execute(self, command: LogoutCommand) -> None:
        refresh_token = command.refresh_token
        self._tokens.decode_refresh(refresh_token)
        async with self._uow_factory() as uow:
            session = await uow.sessions.get_by_token_hash(token_digest(refresh_token))
            if session is None:
                raise AuthenticationFailed()
            await uow.sessions.revoke_family(session.family_id, self._clock.now())
            await uow.commit()
