"""The User entity."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from domain.email import Email
from domain.errors import Conflict, PreconditionFailed, ValidationFailed
from domain.role import Role

MAX_FULL_NAME_LENGTH = 255


class UserChanged(PreconditionFailed):
    def __init__(self) -> None:
        super().__init__("The user has changed since it was read")


class UserBusy(Conflict):
    """Concurrent writers kept changing the account while a change was tried again; rare,
    and only where the database has no row locks (SQLite)."""

    def __init__(self) -> None:
        super().__init__("The user is being changed by other requests: try again")


@dataclass(slots=True)
class User:
    """An account. ``sessions_valid_after``: tokens issued before it are no longer honoured."""

    id: uuid.UUID
    email: Email
    hashed_password: str
    full_name: str | None
    roles: frozenset[Role]
    is_active: bool
    is_superuser: bool
    is_verified: bool
    created_at: datetime
    updated_at: datetime
    sessions_valid_after: datetime
    version: int = field(default=1)

    @classmethod
    def register(
        cls,
        *,
        email: Email,
        hashed_password: str,
        full_name: str | None,
        now: datetime,
        admin: bool = False,
    ) -> User:
        roles = frozenset({Role.USER, Role.ADMIN}) if admin else frozenset({Role.USER})
        return cls(
            id=uuid.uuid4(),
            email=email,
            hashed_password=hashed_password,
            full_name=normalise_full_name(full_name),
            roles=roles,
            is_active=True,
            is_superuser=admin,
            # An administrator is made by an operator, who vouches for the address.
            is_verified=admin,
            created_at=now,
            updated_at=now,
            sessions_valid_after=now,
        )

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    @property
    def is_active_admin(self) -> bool:
        return self.is_active and self.is_admin

    def end_sessions(self, now: datetime) -> None:
        """Every token issued before ``now`` stops working."""
        self.sessions_valid_after = now

    def touch(self, now: datetime) -> None:
        self.updated_at = now
        self.version += 1

    def ensure_version_in(self, expected_versions: Collection[int] | None) -> None:
        """A conditional change goes ahead only while the account is still at one of the
        versions the caller read (None: no condition; an empty collection never matches)."""
        if expected_versions is not None and self.version not in expected_versions:
            raise UserChanged()


def normalise_full_name(full_name: str | None) -> str | None:
    """Trim the name; an empty name is no name. Control characters are refused."""
    if full_name is None:
        return None
    name = full_name.strip()
    if len(name) > MAX_FULL_NAME_LENGTH:
        raise ValidationFailed(
            "full_name", f"Full name must be at most {MAX_FULL_NAME_LENGTH} characters"
        )
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F or 0xD800 <= ord(ch) <= 0xDFFF for ch in name):
        raise ValidationFailed("full_name", "Full name contains characters that are not allowed")
    return name or None
