"""Attempt counting in Redis with the ``limits`` library: one count for every worker and
machine that shares the server. Each hit is one atomic script on the server (INCRBY, and
EXPIRE on the first), so concurrent hits from any number of processes never lose a count."""

from __future__ import annotations

import math
import time
from typing import Any

from limits import RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.errors import StorageError
from redis.asyncio import ConnectionPool, Redis
from redis.exceptions import (
    AuthenticationError,
    AuthenticationWrongNumberOfArgsError,
    RedisError,
)
from redis.exceptions import TimeoutError as RedisTimeoutError

from application.errors import StorageUnavailable

_FAILURES = (RedisError, StorageError, OSError)
_UNAVAILABLE = "The rate-limit store is unavailable"


class RedisRateLimitStore:
    """One connection pool, and one ``limits`` storage on it, for every limit."""

    def __init__(self, url: str, *, prefix: str = "keel:ratelimit") -> None:
        self._pool = ConnectionPool.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        # The pool decides where to connect; the URL given to limits only names the kind.
        # (limits types its pass-through options as scalars; the pool goes through as is.)
        options: dict[str, Any] = {"connection_pool": self._pool}
        self.storage = RedisStorage(
            "async+redis://", implementation="redispy", key_prefix=prefix.rstrip(":"), **options
        )

    async def check(self) -> None:
        """Redis answers a ping; ``StorageUnavailable`` naming the cause otherwise."""
        try:
            await Redis(connection_pool=self._pool).ping()
        except _FAILURES as exc:
            raise StorageUnavailable(_cause(exc)) from exc

    async def close(self) -> None:
        await self._pool.aclose()


def _cause(exc: BaseException) -> str:
    """A few words for a readiness answer and a log line: never the URL or its password."""
    if isinstance(exc, AuthenticationError | AuthenticationWrongNumberOfArgsError):
        return "authentication failed"
    if isinstance(exc, RedisTimeoutError | TimeoutError):
        return "timed out"
    if isinstance(exc.__cause__ or exc.__context__, ConnectionRefusedError) or "refused" in str(
        exc
    ):
        return "connection refused"
    return "unavailable"


class RedisRateLimiter:
    """Fixed windows of ``window_seconds`` per key, starting at the key's first attempt and
    ended by Redis itself (the key expires)."""

    def __init__(self, store: RedisRateLimitStore, *, limit: int, window_seconds: int) -> None:
        self._storage = store.storage
        self._strategy = FixedWindowRateLimiter(store.storage)
        self._item = RateLimitItemPerSecond(limit, window_seconds)

    async def hit(self, key: str) -> int | None:
        try:
            if await self._strategy.hit(self._item, key):
                return None
            stats = await self._strategy.get_window_stats(self._item, key)
        except _FAILURES as exc:
            raise StorageUnavailable(_UNAVAILABLE) from exc
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def give_back(self, key: str) -> None:
        # limits has no decrement for asynchronous Redis; an increment by -1 is the same
        # script. A window that ended since the hit starts again one attempt lighter: one
        # extra attempt at most, and only across the end of a window.
        try:
            await self._storage.incr(self._item.key_for(key), self._item.get_expiry(), amount=-1)
        except _FAILURES as exc:
            raise StorageUnavailable(_UNAVAILABLE) from exc

    async def reset(self, key: str) -> None:
        try:
            await self._strategy.clear(self._item, key)
        except _FAILURES as exc:
            raise StorageUnavailable(_UNAVAILABLE) from exc
