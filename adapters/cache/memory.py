"""The cache in this worker's memory: right for one worker, and the default.

Bounded: past ``max_entries`` the least recently used entry goes. The namespaces'
versions are bounded too (``max_namespaces``, the most recently invalidated kept), so that
a namespace per owner does not grow the worker for good. Every version is drawn from one
counter: a namespace that has none of its own reads the current *epoch*, and when a
namespace's version is let go the epoch moves on, so that every namespace without a
version of its own starts again at a version never used before. That costs those
namespaces their cached entries (a miss each), never a stale answer: the entries of older
versions are never read again and leave by age or by the bound."""

from __future__ import annotations

import itertools
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from adapters.cache.flight import SingleFlight
from application.ports.cache import J, Json

DEFAULT_MAX_ENTRIES = 10_000
DEFAULT_MAX_NAMESPACES = 10_000


class InMemoryCache:
    def __init__(
        self,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_namespaces: int = DEFAULT_MAX_NAMESPACES,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max = max_entries
        self._max_namespaces = max_namespaces
        self._now = now
        self._counter = itertools.count(1)
        self._epoch = 0
        self._versions: OrderedDict[str, int] = OrderedDict()
        self._entries: OrderedDict[tuple[str, int, str], tuple[float, Json]] = OrderedDict()
        self._flights = SingleFlight()

    async def get_or_set(
        self, namespace: str, key: str, ttl: float, compute: Callable[[], Awaitable[J]]
    ) -> J:
        slot = (namespace, self._versions.get(namespace, self._epoch), key)
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
        self._versions[namespace] = next(self._counter)
        self._versions.move_to_end(namespace)
        if len(self._versions) > self._max_namespaces:
            self._versions.popitem(last=False)
            self._epoch = next(self._counter)

    async def close(self) -> None:
        return None

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def namespaces(self) -> int:
        """How many namespaces have a version of their own."""
        return len(self._versions)
