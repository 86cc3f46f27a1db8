"""The outbox in SQL. A take is one statement: it deletes the oldest entries (skipping
those another relay holds, on PostgreSQL) and returns them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from adapters.sqlalchemy.errors import translate_errors
from adapters.sqlalchemy.held_inserts import HeldInsert, WorkConnection
from adapters.sqlalchemy.tables import outbox as table
from adapters.tracing import current_traceparent
from application.ports import OutboxEntry

_TICK = timedelta(microseconds=1)


class SqlAlchemyOutboxStore:
    def __init__(self, connection: WorkConnection) -> None:
        self._connection = connection

    async def add(self, entries: Sequence[tuple[str, str]], now: datetime) -> None:
        # Held like the change they come with, and sent with it: one statement compiled
        # once per shape (rows inlined with VALUES would cost each write twice the CPU).
        for row in outbox_rows(entries, now):
            self._connection.hold(HeldInsert(table, row))

    async def take(self, limit: int) -> list[OutboxEntry]:
        oldest = (
            select(table.c.id)
            .order_by(table.c.created_at, table.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # left out on SQLite, which has one writer
        )
        statement = (
            delete(table)
            .where(table.c.id.in_(oldest.scalar_subquery()))
            .returning(
                table.c.id, table.c.kind, table.c.payload, table.c.created_at, table.c.traceparent
            )
        )
        with translate_errors():
            rows = (await self._connection.execute(statement)).all()
        oldest_first = sorted(rows, key=lambda row: (row.created_at, row.id))
        return [
            OutboxEntry(id=row.id, kind=row.kind, payload=row.payload, traceparent=row.traceparent)
            for row in oldest_first
        ]


def outbox_rows(entries: Sequence[tuple[str, str]], now: datetime) -> list[dict[str, Any]]:
    # A microsecond apart: one commit's entries are relayed in the order they were made.
    # The request's trace goes with them, so that their jobs join it.
    traceparent = current_traceparent()
    return [
        {
            "id": uuid.uuid4(),
            "kind": kind,
            "payload": payload,
            "created_at": now + n * _TICK,
            "traceparent": traceparent,
        }
        for n, (kind, payload) in enumerate(entries)
    ]
