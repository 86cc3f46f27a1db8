"""The per-user socket cap of many processes and machines, counted in Redis.

Each user has a sorted set whose members are the slots of their open sockets (this
worker's random id and a counter), each scored with the moment it stops counting. Taking
a slot is one script: drop the expired members, refuse at the limit, else add. Closing a
socket removes its member; each worker renews all the slots it holds in one pipeline every
third of the time to live, so the sockets of a worker that died stop counting within it.
Times are Redis's own clock, one for every machine."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import uuid
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from application.errors import StorageUnavailable

logger = logging.getLogger("keel.live")

_NOW_MS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS[1]: the user's set; ARGV: limit, slot, time to live (ms).
_TAKE = (
    _NOW_MS
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""
)

# KEYS[1]: the user's set; ARGV: time to live (ms), then the slots to renew. Added back
# when missing: the sockets are open, and a Redis that restarted empty (or an outage longer
# than the time to live) must count them again. A slot released while its renewal was on
# the way may so come back, and counts until it expires unrenewed.
_RENEW = (
    _NOW_MS
    + """
local ttl = tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], now + ttl, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ttl)
return 0
"""
)


class RedisSocketSlots:
    def __init__(
        self, url: str, *, limit: int, ttl_seconds: float, prefix: str = "keel:live:sockets:"
    ) -> None:
        self._redis = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._limit = limit
        self._ttl_ms = max(int(ttl_seconds * 1000), 1)
        self._prefix = prefix
        self._worker = uuid.uuid4().hex[:16]
        self._numbers = itertools.count(1)
        self._take = self._redis.register_script(_TAKE)
        self._renew = self._redis.register_script(_RENEW)
        self._held: dict[uuid.UUID, set[str]] = {}
        self._renewer: asyncio.Task[None] | None = None

    def _key(self, user_id: uuid.UUID) -> str:
        return f"{self._prefix}{user_id}"

    async def take(self, user_id: uuid.UUID) -> str | None:
        self._start_renewing()
        slot = f"{self._worker}:{next(self._numbers)}"
        try:
            taken = await self._take(
                keys=[self._key(user_id)], args=[self._limit, slot, self._ttl_ms]
            )
        except (RedisError, OSError) as exc:
            raise StorageUnavailable("the socket count is unavailable") from exc
        if not taken:
            return None
        # Renewed from now on (a renewal is due well before the time to live has passed).
        self._held.setdefault(user_id, set()).add(slot)
        return slot

    async def release(self, user_id: uuid.UUID, slot: str) -> None:
        self._forget(user_id, slot)
        try:
            await self._redis.zrem(self._key(user_id), slot)
        except (RedisError, OSError) as exc:
            logger.warning("socket slot left to expire", extra={"error": repr(exc)})

    def _forget(self, user_id: uuid.UUID, slot: str) -> None:
        held = self._held.get(user_id)
        if held is not None:
            held.discard(slot)
            if not held:
                del self._held[user_id]

    def _start_renewing(self) -> None:
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.create_task(self._renew_forever(), name="keel socket slots")

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self._ttl_ms / 3000)
            try:
                await self.renew()
            except (RedisError, OSError) as exc:
                logger.warning("socket slots not renewed", extra={"error": repr(exc)})

    async def renew(self) -> None:
        """Push back the expiry of every slot this worker holds: one round trip."""
        if not self._held:
            return
        held = [(user_id, list(slots)) for user_id, slots in self._held.items()]
        async with self._redis.pipeline(transaction=False) as pipe:
            for user_id, slots in held:
                args: list[Any] = [self._ttl_ms, *slots]
                await self._renew(keys=[self._key(user_id)], args=args, client=pipe)
            await pipe.execute()

    async def close(self) -> None:
        renewer, self._renewer = self._renewer, None
        if renewer is not None:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
        await self._redis.aclose()
