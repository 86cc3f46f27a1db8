from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, CredentialReader, UnitOfWorkFactory
from domain.errors import AuthenticationFailed, PermissionDenied
from domain.personal_token import TOKEN_LENGTH, Scope
from domain.session import token_digest
from domain.user import User


class OutsideScopes(PermissionDenied):
    def __init__(self) -> None:
        super().__init__("This personal access token's scopes do not allow this")


@dataclass(frozen=True, slots=True)
class AuthenticatePersonalTokenCommand:
    token: str
    required: frozenset[Scope]


class AuthenticatePersonalToken:
    """Resolve a personal access token to its user, for a route that requires
    ``required`` scopes. The token must be known by its digest, not revoked nor expired,
    its user active, and it must have been issued after the user's sessions were last
    ended (a password change or reset, a logout of every session, a deactivation, a change
    of roles end tokens too). Any of these failing is ``AuthenticationFailed``; a valid
    token whose scopes do not cover the route (or a route that admits no token) is
    ``OutsideScopes``. ``last_used_at`` is written at most once a minute per token."""

    def __init__(
        self, credentials: CredentialReader, uow_factory: UnitOfWorkFactory, clock: Clock
    ) -> None:
        self._credentials = credentials
        self._uow_factory = uow_factory
        self._clock = clock

    async def execute(self, command: AuthenticatePersonalTokenCommand) -> User:
        if len(command.token) != TOKEN_LENGTH:
            raise AuthenticationFailed()
        found = await self._credentials.token_holder(token_digest(command.token))
        if found is None:
            raise AuthenticationFailed()
        user, token = found
        now = self._clock.now()
        if not token.is_live(now) or not user.is_active:
            raise AuthenticationFailed()
        if token.created_at < user.sessions_valid_after:
            raise AuthenticationFailed()
        if not token.allows(command.required):
            raise OutsideScopes()
        if token.last_use_is_stale(now):
            async with self._uow_factory() as uow:
                await uow.personal_tokens.touch(token.id, now)
                await uow.commit()
        return user
