"""One behaviour for every RateLimiter: in memory, and in a real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from adapters.ratelimit.memory import InMemoryRateLimiter
from adapters.ratelimit.redis import RedisRateLimiter
from application.errors import StorageUnavailable
from application.ports import RateLimiter
from tests.support.clock import FixedClock


class Limiters:
    """Makes limiters of one kind; ``wait`` lets a window pass (the real clock for Redis)."""

    def __init__(self, kind: str, request: pytest.FixtureRequest) -> None:
        self.kind = kind
        self.clock = FixedClock()
        self._request = request
        self._made: list[RedisRateLimiter] = []

    def make(self, limit: int, window_seconds: int) -> RateLimiter:
        if self.kind == "memory":
            return InMemoryRateLimiter(limit=limit, window_seconds=window_seconds, clock=self.clock)
        url = self._request.getfixturevalue("redis_url")
        prefix = self._request.getfixturevalue("key_prefix")
        limiter = RedisRateLimiter(url, limit=limit, window_seconds=window_seconds, prefix=prefix)
        self._made.append(limiter)
        return limiter

    async def wait(self, seconds: float) -> None:
        if self.kind == "memory":
            self.clock.advance(timedelta(seconds=seconds))
        else:
            await asyncio.sleep(seconds)

    async def close(self) -> None:
        for limiter in self._made:
            await limiter.close()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def limiters(request: pytest.FixtureRequest) -> AsyncIterator[Limiters]:
    made = Limiters(request.param, request)
    yield made
    await made.close()


async def test_blocked_at_the_limit_until_the_window_ends(limiters: Limiters) -> None:
    limiter = limiters.make(limit=3, window_seconds=1)
    for _ in range(2):
        await limiter.record_failure("k")
        assert await limiter.retry_after("k") is None
    await limiter.record_failure("k")
    assert await limiter.retry_after("k") == 1
    assert await limiter.retry_after("another key") is None
    await limiters.wait(1.1)
    assert await limiter.retry_after("k") is None


async def test_reset_clears_a_key(limiters: Limiters) -> None:
    limiter = limiters.make(limit=1, window_seconds=60)
    await limiter.record_failure("k")
    assert 1 <= (await limiter.retry_after("k") or 0) <= 60
    await limiter.reset("k")
    assert await limiter.retry_after("k") is None


@pytest.mark.redis
async def test_two_limiters_on_one_redis_share_the_count(redis_url: str, key_prefix: str) -> None:
    first = RedisRateLimiter(redis_url, limit=4, window_seconds=60, prefix=key_prefix)
    second = RedisRateLimiter(redis_url, limit=4, window_seconds=60, prefix=key_prefix)
    try:
        await asyncio.gather(*(lim.record_failure("k") for lim in (first, second, first, second)))
        assert await first.retry_after("k") == 60
        assert await second.retry_after("k") == 60
    finally:
        await first.close()
        await second.close()


async def test_an_unreachable_redis_is_storage_unavailable() -> None:
    limiter = RedisRateLimiter("redis://127.0.0.1:1/0", limit=1, window_seconds=1)
    try:
        with pytest.raises(StorageUnavailable):
            await limiter.retry_after("k")
        with pytest.raises(StorageUnavailable):
            await limiter.record_failure("k")
    finally:
        await limiter.close()
