"""The cache in this worker's memory: right for one worker, and the default.

Bounded: past ``max_entries`` the least recently used entry goes. A namespace's version
is a counter here; the entries of older versions are never read again and leave by age
or by the bound."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from adapters.cache.flight import SingleFlight
from application.ports.cache import J, Json

DEFAULT_MAX_ENTRIES = 10_000


class InMemoryCache:
    def __init__(
        self,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max = max_entries
        self._now = now
        self._versions: dict[str, int] = {}
        self._entries: OrderedDict[tuple[str, int, str], tuple[float, Json]] = OrderedDict()
        self._flights = SingleFlight()

    async def get_or_set(
        self, namespace: str, key: str, ttl: float, compute: Callable[[], Awaitable[J]]
    ) -> J:
        slot = (namespace, self._versions.get(namespace, 0), key)
        entry = self._entries.get(slot)
        if entry is not None:
            expires, value = entry
            if self._now() < expires:
                self._entries.move_to_end(slot)
                return value  # type: ignore[return-value]  # stored from a J for this key
            del self._entries[slot]

        def store(value: J) -> None:
            self._entries[slot] = (self._now() + ttl, value)
            self._entries.move_to_end(slot)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

        return await self._flights.run(slot, compute, store)

    async def invalidate(self, namespace: str) -> None:
        self._versions[namespace] = self._versions.get(namespace, 0) + 1

    async def close(self) -> None:
        return None

    def __len__(self) -> int:
        return len(self._entries)
