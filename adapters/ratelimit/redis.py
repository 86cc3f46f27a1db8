"""Failure counting in Redis: one limit for every worker and machine that shares it."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.exceptions import RedisError

from application.errors import StorageUnavailable

# Count a failure and start the window with the first one, atomically.
_RECORD = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


class RedisRateLimiter:
    """Fixed windows of ``window_seconds`` per key, starting at the key's first failure,
    kept by Redis itself (the window ends when the key expires)."""

    def __init__(
        self, url: str, *, limit: int, window_seconds: int, prefix: str = "keel:ratelimit:"
    ) -> None:
        self._redis = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._limit = limit
        self._window = window_seconds
        self._prefix = prefix
        self._record = self._redis.register_script(_RECORD)

    async def retry_after(self, key: str) -> int | None:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.get(self._prefix + key)
                pipe.ttl(self._prefix + key)
                count, ttl = await pipe.execute()
        except (RedisError, OSError) as exc:
            raise StorageUnavailable("The rate-limit store is unavailable") from exc
        if count is None or int(count) < self._limit:
            return None
        return max(1, int(ttl))

    async def record_failure(self, key: str) -> None:
        try:
            await self._record(keys=[self._prefix + key], args=[self._window])
        except (RedisError, OSError) as exc:
            raise StorageUnavailable("The rate-limit store is unavailable") from exc

    async def reset(self, key: str) -> None:
        try:
            await self._redis.delete(self._prefix + key)
        except (RedisError, OSError) as exc:
            raise StorageUnavailable("The rate-limit store is unavailable") from exc

    async def close(self) -> None:
        await self._redis.aclose()
