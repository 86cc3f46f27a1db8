"""Personal access tokens in SQL: revoking and marking a use are conditional UPDATEs."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select, update

from adapters.sqlalchemy.connection import Connection
from adapters.sqlalchemy.errors import translate_errors
from adapters.sqlalchemy.rows import plain_uuid
from adapters.sqlalchemy.tables import personal_tokens as table
from domain.personal_token import LAST_USED_PRECISION, PersonalToken, Scope


class SqlAlchemyPersonalTokenStore:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    async def add(self, token: PersonalToken) -> None:
        values = {
            "id": token.id,
            "user_id": token.user_id,
            "name": token.name,
            "scopes": " ".join(sorted(scope.value for scope in token.scopes)),
            "token_hash": token.token_hash,
            "shown": token.shown,
            "created_at": token.created_at,
            "expires_at": token.expires_at,
        }
        with translate_errors():
            await self._connection.execute(insert(table).values(values))

    async def revoke(self, token_id: uuid.UUID, user_id: uuid.UUID, now: datetime) -> bool:
        statement = (
            update(table)
            .where(table.c.id == token_id, table.c.user_id == user_id, table.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        with translate_errors():
            result = await self._connection.execute(statement)
        return bool(result.rowcount == 1)

    async def touch(self, token_id: uuid.UUID, now: datetime) -> None:
        statement = (
            update(table)
            .where(
                table.c.id == token_id,
                or_(
                    table.c.last_used_at.is_(None),
                    table.c.last_used_at <= now - LAST_USED_PRECISION,
                ),
            )
            .values(last_used_at=now)
        )
        with translate_errors():
            await self._connection.execute(statement)

    async def delete_ended_before(self, cutoff: datetime, limit: int) -> int:
        ended = (
            select(table.c.id)
            .where(or_(table.c.expires_at < cutoff, table.c.revoked_at < cutoff))
            .limit(limit)
        )
        statement = delete(table).where(table.c.id.in_(ended.scalar_subquery()))
        with translate_errors():
            result = await self._connection.execute(statement)
        return int(result.rowcount)


def to_personal_token(row: Sequence[Any], at: int = 0) -> PersonalToken:
    """The token from ``row``, whose columns are the table's from position ``at`` on."""
    return PersonalToken(
        id=plain_uuid(row[at]),
        user_id=plain_uuid(row[at + 1]),
        name=row[at + 2],
        scopes=frozenset(Scope(name) for name in row[at + 3].split()),
        token_hash=row[at + 4],
        shown=row[at + 5],
        created_at=row[at + 6],
        expires_at=row[at + 7],
        last_used_at=row[at + 8],
        revoked_at=row[at + 9],
    )
