"""How many items an owner has, and how many there are in all, kept in the cache: the
count is what makes the first page of a big listing slow, and it changes only when items
are created or deleted. Those use cases call ``changed`` after their commit, so the next
listing counts again, in every worker."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from application.ports.cache import Cache

# A bound on how long a count can be behind a change this cache was not told of: a lost
# invalidation (Redis unreachable), or, with the cache in memory, a change made by another
# process (the ``keel`` command deleting an account, another machine without Redis).
COUNT_TTL_SECONDS = 30.0
_EVERYONE = "items:all"


def _namespace(owner_id: uuid.UUID | None) -> str:
    return _EVERYONE if owner_id is None else f"items:{owner_id}"


class ItemCounts:
    def __init__(self, cache: Cache) -> None:
        self._cache = cache

    async def count(self, owner_id: uuid.UUID | None, compute: Callable[[], Awaitable[int]]) -> int:
        """The owner's items (None: everyone's), counted by ``compute`` when not cached."""
        return await self._cache.get_or_set(
            _namespace(owner_id), "count", COUNT_TTL_SECONDS, compute
        )

    async def changed(self, *owner_ids: uuid.UUID) -> None:
        """Items of these owners were created or deleted, and committed."""
        for owner_id in owner_ids:
            await self._cache.invalidate(_namespace(owner_id))
        await self._cache.invalidate(_EVERYONE)
