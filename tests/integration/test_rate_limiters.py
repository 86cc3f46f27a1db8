"""One behaviour for every RateLimiter: in memory, and in a real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from adapters.ratelimit.memory import InMemoryRateLimiter
from adapters.ratelimit.redis import RedisRateLimiter, RedisRateLimitStore
from application.errors import StorageUnavailable
from application.ports import RateLimiter
from tests.support.clock import FixedClock

TRIALS = 5


class Limiters:
    """Makes limiters of one kind; ``wait`` lets a window pass (the real clock for Redis)."""

    def __init__(self, kind: str, request: pytest.FixtureRequest) -> None:
        self.kind = kind
        self.clock = FixedClock()
        self._request = request
        self._stores: list[RedisRateLimitStore] = []

    def store(self) -> RedisRateLimitStore:
        url = self._request.getfixturevalue("redis_url")
        prefix = self._request.getfixturevalue("key_prefix")
        store = RedisRateLimitStore(url, prefix=prefix)
        self._stores.append(store)
        return store

    def make(self, limit: int, window_seconds: int) -> RateLimiter:
        if self.kind == "memory":
            return InMemoryRateLimiter(limit=limit, window_seconds=window_seconds, clock=self.clock)
        return RedisRateLimiter(self.store(), limit=limit, window_seconds=window_seconds)

    async def wait(self, seconds: float) -> None:
        if self.kind == "memory":
            self.clock.advance(timedelta(seconds=seconds))
        else:
            await asyncio.sleep(seconds)

    async def close(self) -> None:
        for store in self._stores:
            await store.close()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def limiters(request: pytest.FixtureRequest) -> AsyncIterator[Limiters]:
    made = Limiters(request.param, request)
    yield made
    await made.close()


async def test_the_attempt_past_the_limit_waits_until_the_window_ends(limiters: Limiters) -> None:
    limiter = limiters.make(limit=3, window_seconds=2)
    assert [await limiter.hit("k") for _ in range(3)] == [None, None, None]
    assert await limiter.hit("k") == 2
    assert await limiter.hit("another key") is None
    await limiters.wait(2.1)
    assert await limiter.hit("k") is None


async def test_a_burst_of_concurrent_hits_allows_exactly_the_limit(limiters: Limiters) -> None:
    limiter = limiters.make(limit=5, window_seconds=60)
    for trial in range(TRIALS):
        verdicts = await asyncio.gather(*(limiter.hit(f"burst-{trial}") for _ in range(40)))
        assert verdicts.count(None) == 5
        assert all(1 <= (wait or 60) <= 60 for wait in verdicts)


async def test_reset_forgets_a_key(limiters: Limiters) -> None:
    limiter = limiters.make(limit=1, window_seconds=60)
    assert await limiter.hit("k") is None
    assert 1 <= (await limiter.hit("k") or 0) <= 60
    await limiter.reset("k")
    assert await limiter.hit("k") is None
    await limiter.reset("never seen")


async def test_give_back_uncounts_one_attempt(limiters: Limiters) -> None:
    limiter = limiters.make(limit=2, window_seconds=60)
    assert await limiter.hit("k") is None
    assert await limiter.hit("k") is None
    await limiter.give_back("k")
    assert await limiter.hit("k") is None
    assert await limiter.hit("k") is not None


@pytest.mark.redis
async def test_limiters_on_one_redis_share_the_count(redis_url: str, key_prefix: str) -> None:
    """Two stores stand for two workers (or machines): one count between them."""
    first, second = (RedisRateLimitStore(redis_url, prefix=key_prefix) for _ in range(2))
    try:
        a, b = (RedisRateLimiter(s, limit=4, window_seconds=60) for s in (first, second))
        for trial in range(TRIALS):
            verdicts = await asyncio.gather(*(lim.hit(f"t{trial}") for lim in (a, b) * 10))
            assert verdicts.count(None) == 4
    finally:
        await first.close()
        await second.close()


@pytest.mark.redis
async def test_keys_stay_under_the_prefix(redis_url: str, key_prefix: str) -> None:
    from redis.asyncio import Redis

    store = RedisRateLimitStore(redis_url, prefix=key_prefix)
    client = Redis.from_url(redis_url)
    try:
        await RedisRateLimiter(store, limit=1, window_seconds=60).hit("login:account:a@b.c")
        keys = await client.keys(key_prefix + "*")
        assert len(keys) == 1
        assert 0 < await client.ttl(keys[0]) <= 60
    finally:
        await store.close()
        await client.aclose()


async def test_an_unreachable_redis_is_storage_unavailable() -> None:
    store = RedisRateLimitStore("redis://127.0.0.1:1/0")
    limiter = RedisRateLimiter(store, limit=1, window_seconds=1)
    try:
        with pytest.raises(StorageUnavailable):
            await limiter.hit("k")
        with pytest.raises(StorageUnavailable):
            await limiter.give_back("k")
        with pytest.raises(StorageUnavailable):
            await limiter.reset("k")
    finally:
        await store.close()


async def test_the_memory_table_sheds_ended_windows() -> None:
    clock = FixedClock()
    limiter = InMemoryRateLimiter(limit=5, window_seconds=60, clock=clock)
    for n in range(5000):
        await limiter.hit(f"spray-{n}")
    clock.advance(timedelta(seconds=61))
    for n in range(5000):
        await limiter.hit(f"later-{n}")
    assert len(limiter) < 10_000
