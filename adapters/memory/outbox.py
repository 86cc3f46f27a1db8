"""The outbox in a dictionary, for the fast tests."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from application.ports import OutboxEntry


class InMemoryOutboxStore:
    """What a transaction takes is gone for the others at once, and back (in front) if the
    transaction does not commit."""

    def __init__(self, rows: dict[uuid.UUID, OutboxEntry]) -> None:
        self._rows = rows  # in insertion order: oldest first
        self._taken: list[OutboxEntry] = []

    async def add(self, entries: Sequence[tuple[str, str]], now: datetime) -> None:
        for kind, payload in entries:
            entry = OutboxEntry(uuid.uuid4(), kind, payload)
            self._rows[entry.id] = entry

    async def take(self, limit: int) -> list[OutboxEntry]:
        taken = list(self._rows.values())[:limit]
        for entry in taken:
            del self._rows[entry.id]
        self._taken += taken
        return taken

    def commit(self) -> None:
        self._taken = []

    def rollback(self) -> None:
        waiting = {entry.id: entry for entry in self._taken} | self._rows
        self._rows.clear()
        self._rows.update(waiting)
        self._taken = []
