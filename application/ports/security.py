"""Passwords, tokens and attempt limits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.role import Role


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str: ...

    async def verify(self, hashed: str, password: str) -> bool:
        """True when ``password`` matches; never raises for a mismatch or a malformed hash."""
        ...

    def needs_rehash(self, hashed: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """``session_id``: the session (refresh-token family) an access token belongs to;
    None in a refresh token, which is looked up by itself."""

    user_id: uuid.UUID
    issued_at: datetime
    token_id: str
    session_id: uuid.UUID | None = None
    expires_at: datetime | None = None


class TokenService(Protocol):
    def issue_access(
        self, user_id: uuid.UUID, roles: frozenset[Role], session_id: uuid.UUID
    ) -> IssuedToken: ...

    def issue_refresh(self, user_id: uuid.UUID) -> IssuedToken: ...

    def decode_access(self, token: str) -> AccessClaims:
        """Return the checked claims; raise ``AuthenticationFailed`` for any bad token."""
        ...

    def decode_refresh(self, token: str) -> AccessClaims:
        """The same checks, for a refresh token; an access token is refused here."""
        ...

    def issue_mfa(self, user_id: uuid.UUID, *, setup: bool) -> IssuedToken:
        """A short-lived token between the password and the second factor: it proves the
        password only, and is accepted nowhere but the second-factor routes. ``setup``: a
        token for a user who must set a second factor up first (accepted by set-up and
        confirm only, where the other kind is not)."""
        ...

    def decode_mfa(self, token: str, *, setup: bool) -> AccessClaims:
        """The same checks, for a second-factor token of the kind ``setup`` names."""
        ...


class RateLimiter(Protocol):
    """Attempts per key against one limit: so many in a window that starts with the key's
    first attempt. Counting comes first and is atomic, so of any number of concurrent
    attempts on a key no more than the limit are allowed. Shared by every worker and
    machine when the adapter is (Redis), per process otherwise. A store that cannot be
    reached raises ``StorageUnavailable``: never an unlimited door."""

    async def hit(self, key: str) -> int | None:
        """Count one attempt: None when it is within the limit, otherwise the seconds until
        the key may try again (an attempt over the limit is counted all the same)."""
        ...

    async def give_back(self, key: str) -> None:
        """Uncount one attempt this caller counted and that turned out not to be one (it
        succeeded, or was never evaluated)."""
        ...

    async def reset(self, key: str) -> None:
        """Forget every attempt of the key."""
        ...


class CommonPasswords(Protocol):
    def contains(self, password: str) -> bool: ...
