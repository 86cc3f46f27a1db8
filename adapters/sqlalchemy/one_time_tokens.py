"""Single-use tokens in SQL. Using one is a conditional UPDATE, so it is atomic."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, insert, select, update

from adapters.sqlalchemy.connection import Connection
from adapters.sqlalchemy.errors import translate_errors
from adapters.sqlalchemy.tables import one_time_tokens as table
from domain.one_time_token import OneTimeToken, TokenPurpose


class SqlAlchemyOneTimeTokenStore:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    async def add(self, token: OneTimeToken) -> None:
        values = {
            "id": token.id,
            "user_id": token.user_id,
            "purpose": token.purpose.value,
            "token_hash": token.token_hash,
            "email": token.email,
            "created_at": token.created_at,
            "expires_at": token.expires_at,
            "used_at": token.used_at,
        }
        with translate_errors():
            await self._connection.execute(insert(table).values(**values))

    async def get_by_token_hash(self, token_hash: str) -> OneTimeToken | None:
        query = select(table).where(table.c.token_hash == token_hash)
        with translate_errors():
            row = (await self._connection.execute(query)).first()
        return _to_token(row) if row is not None else None

    async def use(self, token_id: uuid.UUID, now: datetime) -> bool:
        statement = (
            update(table)
            .where(table.c.id == token_id, table.c.used_at.is_(None), table.c.expires_at > now)
            .values(used_at=now)
        )
        with translate_errors():
            result = await self._connection.execute(statement)
        return bool(result.rowcount == 1)

    async def use_all(self, user_id: uuid.UUID, purpose: TokenPurpose, now: datetime) -> None:
        statement = (
            update(table)
            .where(
                table.c.user_id == user_id,
                table.c.purpose == purpose.value,
                table.c.used_at.is_(None),
            )
            .values(used_at=now)
        )
        with translate_errors():
            await self._connection.execute(statement)

    async def delete_expired(self, now: datetime) -> int:
        with translate_errors():
            result = await self._connection.execute(delete(table).where(table.c.expires_at <= now))
        return result.rowcount


def _to_token(row: Row[Any]) -> OneTimeToken:
    return OneTimeToken(
        id=row.id,
        user_id=row.user_id,
        purpose=TokenPurpose(row.purpose),
        token_hash=row.token_hash,
        email=row.email,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
    )
