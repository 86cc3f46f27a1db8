"""The outbox in SQL. A claim is one statement: it takes the due entries (skipping those
another runner holds, on PostgreSQL) and pushes them past their lease as it takes them."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update

from adapters.sqlalchemy.connection import Connection
from adapters.sqlalchemy.errors import translate_errors
from adapters.sqlalchemy.tables import outbox as table
from application.ports import OutboxEntry


class SqlAlchemyOutboxStore:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    async def add(self, kind: str, payload: str, now: datetime) -> None:
        values = {
            "id": uuid.uuid4(),
            "kind": kind,
            "payload": payload,
            "created_at": now,
            "available_at": now,
            "attempts": 0,
        }
        with translate_errors():
            await self._connection.execute(insert(table).values(**values))

    async def claim(self, now: datetime, lease: timedelta, limit: int) -> list[OutboxEntry]:
        due = (
            select(table.c.id)
            .where(table.c.failed_at.is_(None), table.c.available_at <= now)
            .order_by(table.c.available_at)
            .limit(limit)
            .with_for_update(skip_locked=True)  # left out on SQLite, which has one writer
        )
        statement = (
            update(table)
            .where(table.c.id.in_(due.scalar_subquery()))
            .values(available_at=now + lease, attempts=table.c.attempts + 1)
            .returning(table.c.id, table.c.kind, table.c.payload, table.c.attempts)
        )
        with translate_errors():
            rows = (await self._connection.execute(statement)).all()
        return [
            OutboxEntry(id=row.id, kind=row.kind, payload=row.payload, attempts=row.attempts)
            for row in rows
        ]

    async def done(self, entry_id: uuid.UUID) -> None:
        with translate_errors():
            await self._connection.execute(table.delete().where(table.c.id == entry_id))

    async def retry(self, entry_id: uuid.UUID, at: datetime, error: str) -> None:
        statement = (
            update(table).where(table.c.id == entry_id).values(available_at=at, last_error=error)
        )
        with translate_errors():
            await self._connection.execute(statement)

    async def fail(self, entry_id: uuid.UUID, now: datetime, error: str) -> None:
        statement = (
            update(table).where(table.c.id == entry_id).values(failed_at=now, last_error=error)
        )
        with translate_errors():
            await self._connection.execute(statement)
