"""A cache of computed answers shared by the use cases: in the worker's memory, or in
Redis for every worker and machine at once.

Keys live in namespaces. ``invalidate`` bumps a namespace's version, and the version is
part of every key read or written, so each key of the namespace is new at once without
finding the old ones (no scan); what was stored under an older version just expires.
A writer invalidates after its commit: a value computed from the data before the commit
is then stored, if at all, under a version no one reads any more."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

Json = None | bool | int | float | str | list["Json"] | dict[str, "Json"]
J = TypeVar("J", bound=Json)


class Cache(Protocol):
    async def get_or_set(
        self, namespace: str, key: str, ttl: float, compute: Callable[[], Awaitable[J]]
    ) -> J:
        """The value stored under ``key`` in the namespace's current version, or else what
        ``compute`` gives, stored for ``ttl`` seconds. Concurrent misses of one key in a
        process compute once and share the value (or the error, which is not stored). A
        cache that cannot answer computes without it, never an error."""
        ...

    async def invalidate(self, namespace: str) -> None:
        """Every key of the namespace is new from now on, for every reader of the cache."""
        ...

    async def close(self) -> None: ...
