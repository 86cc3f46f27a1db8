from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from application.ports import TokenService, UserReader
from domain.errors import AuthenticationFailed
from domain.user import User


@dataclass(frozen=True, slots=True)
class GetCurrentUserCommand:
    access_token: str


@dataclass(frozen=True, slots=True)
class SignedIn:
    user: User
    expires_at: datetime | None
    session_id: uuid.UUID | None = None


class GetCurrentUser:
    """Resolve a bearer access token to its user. The token must be valid, the user must
    exist and be active, the session the token names must not have ended (a logout, a
    reused refresh token), and the token must be issued after the user's sessions were last
    ended (a password change, a logout of all sessions, a change of roles)."""

    def __init__(self, users: UserReader, tokens: TokenService) -> None:
        self._users = users
        self._tokens = tokens

    async def execute(self, command: GetCurrentUserCommand) -> User:
        return (await self.signed_in(command)).user

    async def signed_in(self, command: GetCurrentUserCommand) -> SignedIn:
        """The user, and until when the token holds: a connection kept open on the token
        (a live-event socket) ends then."""
        access_token = command.access_token
        claims = self._tokens.decode_access(access_token)
        if claims.session_id is None:
            raise AuthenticationFailed()
        user = await self._users.get_signed_in(claims.user_id, claims.session_id)
        if user is None or not user.is_active:
            raise AuthenticationFailed()
        if claims.issued_at < user.sessions_valid_after:
            raise AuthenticationFailed()
        return SignedIn(user, claims.expires_at, claims.session_id)
