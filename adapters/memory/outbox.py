"""The outbox in a dictionary, for the fast tests."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta

from adapters.memory.store import OutboxRow
from application.ports import OutboxEntry


class InMemoryOutboxStore:
    def __init__(self, rows: dict[uuid.UUID, OutboxRow]) -> None:
        self._rows = rows

    async def add(self, kind: str, payload: str, now: datetime) -> None:
        entry = OutboxEntry(uuid.uuid4(), kind, payload, 0)
        self._rows[entry.id] = OutboxRow(entry, available_at=now)

    async def claim(self, now: datetime, lease: timedelta, limit: int) -> list[OutboxEntry]:
        due = sorted(
            (r for r in self._rows.values() if r.failed_at is None and r.available_at <= now),
            key=lambda r: r.available_at,
        )[:limit]
        for row in due:
            row.entry = dataclasses.replace(row.entry, attempts=row.entry.attempts + 1)
            row.available_at = now + lease
        return [row.entry for row in due]

    async def done(self, entry_id: uuid.UUID) -> None:
        self._rows.pop(entry_id, None)

    async def retry(self, entry_id: uuid.UUID, at: datetime, error: str) -> None:
        row = self._rows.get(entry_id)
        if row is not None:
            row.available_at, row.last_error = at, error

    async def fail(self, entry_id: uuid.UUID, now: datetime, error: str) -> None:
        row = self._rows.get(entry_id)
        if row is not None:
            row.failed_at, row.last_error = now, error
