"""Refresh sessions in SQL. Spending is one conditional UPDATE, so it is atomic."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, delete, insert, literal, select, update

from adapters.sqlalchemy.connection import Connection
from adapters.sqlalchemy.errors import translate_errors
from adapters.sqlalchemy.tables import refresh_sessions as table
from adapters.sqlalchemy.tables import users
from domain.session import RefreshSession


class SqlAlchemySessionStore:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    async def start(self, session: RefreshSession, *, sessions_valid_after: datetime) -> bool:
        values = {
            "id": session.id,
            "user_id": session.user_id,
            "family_id": session.family_id,
            "token_hash": session.token_hash,
            "created_at": session.created_at,
            "expires_at": session.expires_at,
            "started_at": session.started_at,
            "user_agent": session.user_agent,
            "address": session.address,
        }
        # One statement: the row is inserted from the user's row, found only while the user
        # is as the caller read it. FOR SHARE holds that row until the transaction ends, so a
        # change that ends the user's sessions (it updates the row first) waits, and then
        # ends this one too. SQLite leaves the clause out; it serialises writers.
        source = (
            select(*(literal(value, table.c[name].type) for name, value in values.items()))
            .where(
                users.c.id == session.user_id,
                users.c.is_active.is_(True),
                users.c.sessions_valid_after == sessions_valid_after,
            )
            .with_for_update(read=True)
        )
        with translate_errors():
            result = await self._connection.execute(insert(table).from_select(list(values), source))
        return bool(result.rowcount == 1)

    async def get_by_token_hash(self, token_hash: str) -> RefreshSession | None:
        query = select(table).where(table.c.token_hash == token_hash)
        with translate_errors():
            row = (await self._connection.execute(query)).first()
        return _to_session(row) if row is not None else None

    async def spend(self, session_id: uuid.UUID, now: datetime) -> bool:
        statement = (
            update(table)
            .where(
                table.c.id == session_id,
                table.c.replaced_at.is_(None),
                table.c.revoked_at.is_(None),
            )
            .values(replaced_at=now)
        )
        with translate_errors():
            result = await self._connection.execute(statement)
        return bool(result.rowcount == 1)

    async def revoke_family(
        self, family_id: uuid.UUID, now: datetime, *, of_user: uuid.UUID | None = None
    ) -> int:
        # Lock the family first: a rotation in flight holds the token it spends, so this
        # waits for it to commit; the UPDATE that follows (a statement of its own, with a
        # newer view) then sees the token the rotation added, and ends it as well.
        which = table.c.family_id == family_id
        if of_user is not None:
            which = which & (table.c.user_id == of_user)
        lock = select(table.c.id).where(which).with_for_update()
        with translate_errors():
            await self._connection.execute(lock)
        return await self._revoke(which, now)

    async def revoke_user(self, user_id: uuid.UUID, now: datetime) -> None:
        await self._revoke(table.c.user_id == user_id, now)

    async def delete_expired(self, now: datetime) -> int:
        with translate_errors():
            result = await self._connection.execute(delete(table).where(table.c.expires_at <= now))
        return result.rowcount

    async def _revoke(self, which: ColumnElement[bool], now: datetime) -> int:
        statement = update(table).where(which, table.c.revoked_at.is_(None)).values(revoked_at=now)
        with translate_errors():
            result = await self._connection.execute(statement)
        return int(result.rowcount)


def _to_session(row: Row[Any]) -> RefreshSession:
    return RefreshSession(
        id=row.id,
        user_id=row.user_id,
        family_id=row.family_id,
        token_hash=row.token_hash,
        created_at=row.created_at,
        expires_at=row.expires_at,
        replaced_at=row.replaced_at,
        revoked_at=row.revoked_at,
        started_at=row.started_at,
        user_agent=row.user_agent,
        address=row.address,
    )
