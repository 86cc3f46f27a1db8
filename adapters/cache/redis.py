"""The cache in Redis: one for every worker and machine that shares the server.

A namespace's version is a counter key; a value lives under a key that holds the version.
One script reads the version and the value in one round trip; a miss stores the value
with ``SET ... EX`` under the version it read, if that is still the version (a value
computed across a change is not stored at all). ``invalidate`` is one ``INCR``. Misses of
one key compute once per process (not across processes: the cost of a miss is one
computation per worker at most).

A version key expires ``VERSION_KEEP_SECONDS`` after the last change or store in its
namespace, so that a namespace per owner does not stay in Redis for good. That is safe:
every value stored under a version makes the version key outlive it, so by the time a
version key expires (and the namespace's version starts again from nothing) no value of
the namespace is left to be read by mistake.

A Redis that cannot be reached costs the cache, never the answer: the value is computed
without it, the outage logged once, and Redis left alone for a few seconds before it is
tried again, so that an outage does not add a timeout to every request. Each call to
Redis is given ``operation_seconds`` (``OPERATION_SECONDS`` unless told): a Redis that
hangs (rather than refuses) costs a request that much, once per ``RETRY_AFTER_SECONDS``,
never the socket's timeout. A call that runs out of time, for whatever reason (a burst
opening many connections at once on a loaded machine is one), is taken as an outage."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

from adapters.cache.flight import SingleFlight
from application.ports.cache import J

logger = logging.getLogger("keel.cache")

_FAILURES = (RedisError, OSError)  # a deadline passed is a TimeoutError, an OSError
RETRY_AFTER_SECONDS = 5.0
# Far above what a healthy Redis takes (well under a millisecond on a local network).
OPERATION_SECONDS = 0.1

# A version key outlives every value stored under it by far (values live seconds).
VERSION_KEEP_SECONDS = 86_400

# KEYS[1]: the namespace's version key. ARGV[1]: the value key's prefix, ARGV[2]: the key.
_READ = """
local version = redis.call('GET', KEYS[1]) or '0'
return {version, redis.call('GET', ARGV[1] .. version .. ':' .. ARGV[2])}
"""
# KEYS[1]: the version key, KEYS[2]: the value's key. ARGV: the version read, the value,
# its TTL, how long the version key is kept. Stored only under the current version.
_STORE = """
if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
"""
# KEYS[1]: the version key. ARGV[1]: how long it is kept.
_BUMP = """
local version = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
return version
"""


class RedisCache:
    def __init__(
        self,
        url: str,
        *,
        prefix: str = "keel:cache:",
        operation_seconds: float = OPERATION_SECONDS,
        version_keep_seconds: int = VERSION_KEEP_SECONDS,
    ) -> None:
        self._deadline = operation_seconds
        self._keep = version_keep_seconds
        self._redis: Redis = Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self._prefix = prefix
        self._read = self._redis.register_script(_READ)
        self._store = self._redis.register_script(_STORE)
        self._bump = self._redis.register_script(_BUMP)
        self._flights = SingleFlight()
        self._resting_until = 0.0
        self._down = False

    async def get_or_set(
        self, namespace: str, key: str, ttl: float, compute: Callable[[], Awaitable[J]]
    ) -> J:
        if time.monotonic() < self._resting_until:
            return await compute()
        base = f"{self._prefix}{namespace}:"
        try:
            async with asyncio.timeout(self._deadline):
                read = await self._read(keys=[base + "v"], args=[base, key])
            version, found = cast(list[Any], read)
        except _FAILURES as exc:
            self._unreachable(exc)
            return await compute()
        self._reachable()
        if found is not None:
            return cast(J, json.loads(found))
        read_version = str(int(version))
        slot = f"{base}{read_version}:{key}"
        seconds = max(1, round(ttl))
        keep = max(self._keep, 2 * seconds)

        async def store(value: J) -> None:
            try:
                async with asyncio.timeout(self._deadline):
                    await self._store(
                        keys=[base + "v", slot],
                        args=[read_version, json.dumps(value), seconds, keep],
                    )
            except _FAILURES as exc:
                self._unreachable(exc)

        return await self._flights.run(slot, compute, store)

    async def invalidate(self, namespace: str) -> None:
        if time.monotonic() < self._resting_until:
            # Not waited for while Redis is known to be out: what is cached for the
            # namespace stays until it expires (the count's TTL bounds it).
            logger.error("cache.invalidation_failed", extra={"namespace": namespace})
            return
        try:
            async with asyncio.timeout(self._deadline):
                await self._bump(keys=[f"{self._prefix}{namespace}:v"], args=[self._keep])
        except _FAILURES as exc:
            # Nothing stands in for the bump: what is cached for the namespace stays
            # until it expires. Said loudly, whatever else is known about the outage.
            logger.error("cache.invalidation_failed", extra={"namespace": namespace})
            self._unreachable(exc)
        else:
            self._reachable()

    async def close(self) -> None:
        await self._redis.aclose()

    def _unreachable(self, exc: BaseException) -> None:
        self._resting_until = time.monotonic() + RETRY_AFTER_SECONDS
        if not self._down:
            self._down = True
            logger.warning("cache.unavailable", extra={"cause": type(exc).__name__})

    def _reachable(self) -> None:
        if self._down:
            self._down = False
            logger.info("cache.available")
