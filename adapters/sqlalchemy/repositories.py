"""Repositories over SQLAlchemy Core: rows mapped straight to domain entities."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.errors import translate_errors
from adapters.sqlalchemy.tables import users
from domain.email import Email
from domain.role import Role
from domain.user import User


class SqlAlchemyUserRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def get(self, user_id: uuid.UUID) -> User | None:
        return await self._one(select(users).where(users.c.id == user_id))

    async def get_by_email(self, email: Email) -> User | None:
        return await self._one(select(users).where(users.c.email == email.value))

    async def add(self, user: User) -> None:
        with translate_errors():
            await self._connection.execute(insert(users).values(**_to_row(user)))

    async def update(self, user: User) -> None:
        values = _to_row(user)
        del values["id"], values["created_at"]
        with translate_errors():
            await self._connection.execute(
                update(users).where(users.c.id == user.id).values(**values)
            )

    async def count_admins(self) -> int:
        query = (
            select(func.count())
            .select_from(users)
            .where(users.c.is_active.is_(True), users.c.roles.contains(Role.ADMIN.value))
        )
        with translate_errors():
            return int((await self._connection.execute(query)).scalar_one())

    async def _one(self, query: Any) -> User | None:
        with translate_errors():
            row = (await self._connection.execute(query)).first()
        return _to_user(row) if row is not None else None


def _to_row(user: User) -> dict[str, Any]:
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


def _to_user(row: Row[Any]) -> User:
    return User(
        id=row.id,
        email=Email(row.email),
        hashed_password=row.hashed_password,
        full_name=row.full_name,
        roles=frozenset(Role(name) for name in row.roles.split()),
        is_active=row.is_active,
        is_superuser=row.is_superuser,
        is_verified=row.is_verified,
        created_at=row.created_at,
        updated_at=row.updated_at,
        sessions_valid_after=row.sessions_valid_after,
        version=row.version,
    )
