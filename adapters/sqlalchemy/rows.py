"""Users and items to rows and back: one table per mapping, for every read and write.

Rows are read in the table's column order (``select(users)``), by position: the cheapest
access on both SQLAlchemy's rows and asyncpg's records, and one more column (a listing's
total) after them changes nothing. PostgreSQL's driver gives ids of its own ``uuid.UUID``
subclass, which everything past this module would have to know about (pydantic serialises
it by a slow general path); they leave here as plain ``uuid.UUID``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from domain.email import Email
from domain.item import Item
from domain.role import Role
from domain.user import User

_UUID = uuid.UUID
_new = object.__new__
_set = object.__setattr__
_UNKNOWN = uuid.SafeUUID.unknown


def plain_uuid(value: uuid.UUID) -> uuid.UUID:
    """``value`` as a ``uuid.UUID`` itself. Built from its number directly: ``uuid.UUID``'s
    constructor parses its arguments for a microsecond, three times this."""
    if type(value) is _UUID:
        return value
    plain = _new(_UUID)
    _set(plain, "int", value.int)
    _set(plain, "is_safe", _UNKNOWN)
    return plain


def user_values(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email.value,
        "hashed_password": user.hashed_password,
        "full_name": user.full_name,
        "roles": " ".join(sorted(role.value for role in user.roles)),
        "is_active": user.is_active,
        "is_superuser": user.is_superuser,
        "is_verified": user.is_verified,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "sessions_valid_after": user.sessions_valid_after,
        "version": user.version,
    }


def to_user(row: Sequence[Any]) -> User:
    # Times are aware UTC on every path: asyncpg's own, and the column type's through
    # SQLAlchemy.
    return User(
        id=plain_uuid(row[0]),
        email=Email.stored(row[1]),
        hashed_password=row[2],
        full_name=row[3],
        roles=frozenset(Role(name) for name in row[4].split()),
        is_active=row[5],
        is_superuser=row[6],
        is_verified=row[7],
        created_at=row[8],
        updated_at=row[9],
        sessions_valid_after=row[10],
        version=row[11],
    )


def item_values(item: Item) -> dict[str, Any]:
    return {
        "id": item.id,
        "owner_id": item.owner_id,
        "title": item.title,
        "description": item.description,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "version": item.version,
    }


def to_item(row: Sequence[Any]) -> Item:
    return Item(
        id=plain_uuid(row[0]),
        owner_id=plain_uuid(row[1]),
        title=row[2],
        description=row[3],
        created_at=row[4],
        updated_at=row[5],
        version=row[6],
    )
