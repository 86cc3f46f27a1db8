"""The read side: what the use cases read without changing anything. Each read stands
alone (no transaction is held around it) and sees what was committed when it ran, as a
read at READ COMMITTED would; the values are domain entities, whatever the driver gave."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.email import Email
from domain.item import Item
from domain.pagination import Page, PageRequest
from domain.personal_token import PersonalToken
from domain.role import Role
from domain.session import DeviceSession
from domain.user import User


@dataclass(frozen=True, slots=True)
class UserFilter:
    email: Email | None = None
    is_active: bool | None = None
    role: Role | None = None


@dataclass(frozen=True, slots=True)
class ItemFilter:
    """``owner_id`` None: everyone's items. ``q``: a case-insensitive part of the title."""

    owner_id: uuid.UUID | None = None
    q: str | None = None


class UserReader(Protocol):
    async def get(self, user_id: uuid.UUID) -> User | None: ...

    async def get_signed_in(self, user_id: uuid.UUID, session_id: uuid.UUID) -> User | None:
        """The user, in one read with the check that the session ``session_id`` of that
        user has not ended; None when either is not so."""
        ...

    async def get_by_email(self, email: Email) -> User | None: ...

    async def list(self, where: UserFilter, page: PageRequest) -> Page[User]:
        """Newest first (ties by id), at most one page of rows loaded."""
        ...


class ItemReader(Protocol):
    async def get(self, item_id: uuid.UUID) -> Item | None: ...

    async def list(self, where: ItemFilter, page: PageRequest) -> Page[Item]:
        """Newest first (ties by id), at most one page of rows loaded."""
        ...

    async def count(self, where: ItemFilter) -> int:
        """The matching items, counted up to ``COUNT_CAP + 1``."""
        ...


class CredentialReader(Protocol):
    """A user's sessions and personal tokens, and the holder of a personal token."""

    async def live_sessions(self, user_id: uuid.UUID, now: datetime) -> list[DeviceSession]:
        """The user's sessions that have not ended or expired, newest first."""
        ...

    async def personal_tokens(self, user_id: uuid.UUID) -> list[PersonalToken]:
        """The user's tokens not revoked (expired ones included), newest first."""
        ...

    async def token_holder(self, token_hash: str) -> tuple[User, PersonalToken] | None:
        """The token with that digest and its user, in one read; None when there is none."""
        ...
