"""The per-user socket cap of one process: the zero-configuration start, where one process
serves every socket."""

from __future__ import annotations

import itertools
import uuid


class InMemorySocketSlots:
    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._held: dict[uuid.UUID, set[str]] = {}
        self._numbers = itertools.count(1)

    async def take(self, user_id: uuid.UUID) -> str | None:
        # No await between the check and the add: one event loop, so nothing interleaves.
        held = self._held.setdefault(user_id, set())
        if len(held) >= self._limit:
            return None
        slot = str(next(self._numbers))
        held.add(slot)
        return slot

    async def release(self, user_id: uuid.UUID, slot: str) -> None:
        held = self._held.get(user_id)
        if held is not None:
            held.discard(slot)
            if not held:
                del self._held[user_id]

    async def close(self) -> None:
        return None
