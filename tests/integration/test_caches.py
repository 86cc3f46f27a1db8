"""One behaviour for every Cache: in memory, and in a real Redis."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from adapters.cache.memory import InMemoryCache
from adapters.cache.redis import RedisCache
from application.ports.cache import Cache, Json
from tests.support.redis import PATIENT_SECONDS

CONCURRENT = 50
TRIALS = 5


class Caches:
    """Makes caches of one kind. For Redis each is a separate client (another process's
    view); in memory there is one per process, so ``another`` is the same one."""

    def __init__(self, kind: str, request: pytest.FixtureRequest) -> None:
        self.kind = kind
        self._request = request
        self._made: list[Cache] = []
        self._memory = InMemoryCache()

    def make(self) -> Cache:
        if self.kind == "memory":
            return self._memory
        url = self._request.getfixturevalue("redis_url")
        prefix = self._request.getfixturevalue("key_prefix")
        cache = RedisCache(url, prefix=prefix, operation_seconds=PATIENT_SECONDS)
        self._made.append(cache)
        return cache

    async def close(self) -> None:
        for cache in self._made:
            await cache.close()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def caches(request: pytest.FixtureRequest) -> AsyncIterator[Caches]:
    made = Caches(request.param, request)
    yield made
    await made.close()


class Counter:
    """A computation that counts its runs and can be held until released."""

    def __init__(self, value: Json = None) -> None:
        self.runs = 0
        self.value = value
        self.release = asyncio.Event()
        self.release.set()

    def __call__(self) -> Callable[[], Awaitable[Json]]:
        async def compute() -> Json:
            self.runs += 1
            await self.release.wait()
            return self.value

        return compute


async def test_a_value_is_computed_once_then_read_back(caches: Caches) -> None:
    cache = caches.make()
    counter = Counter({"total": 3, "exact": True, "ids": ["a", "b"]})
    first = await cache.get_or_set("owner-1", "count", 60, counter())
    second = await cache.get_or_set("owner-1", "count", 60, counter())
    assert first == second == {"total": 3, "exact": True, "ids": ["a", "b"]}
    assert counter.runs == 1


async def test_keys_and_namespaces_are_apart(caches: Caches) -> None:
    cache = caches.make()
    assert await cache.get_or_set("a", "k", 60, Counter(1)()) == 1
    assert await cache.get_or_set("a", "other", 60, Counter(2)()) == 2
    assert await cache.get_or_set("b", "k", 60, Counter(3)()) == 3
    assert await cache.get_or_set("a", "k", 60, Counter(4)()) == 1


async def test_concurrent_misses_compute_once(caches: Caches) -> None:
    cache = caches.make()
    for trial in range(TRIALS):
        counter = Counter(trial)
        counter.release.clear()
        calls = [
            asyncio.create_task(cache.get_or_set("n", f"k{trial}", 60, counter()))
            for _ in range(CONCURRENT)
        ]
        await asyncio.sleep(0.05)  # every call has missed and is waiting by now
        counter.release.set()
        assert await asyncio.gather(*calls) == [trial] * CONCURRENT
        assert counter.runs == 1


async def test_a_caller_that_gives_up_does_not_cancel_the_others(caches: Caches) -> None:
    cache = caches.make()
    counter = Counter(7)
    counter.release.clear()
    first = asyncio.create_task(cache.get_or_set("n", "k", 60, counter()))
    second = asyncio.create_task(cache.get_or_set("n", "k", 60, counter()))
    await asyncio.sleep(0.05)
    first.cancel()
    counter.release.set()
    assert await second == 7
    assert counter.runs == 1


async def test_an_error_reaches_every_waiter_and_is_not_stored(caches: Caches) -> None:
    cache = caches.make()
    gate = asyncio.Event()

    async def failing() -> Json:
        await gate.wait()
        raise RuntimeError("database gone")

    calls = [asyncio.create_task(cache.get_or_set("n", "k", 60, failing)) for _ in range(5)]
    await asyncio.sleep(0.05)
    gate.set()
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    assert all(isinstance(outcome, RuntimeError) for outcome in outcomes)
    assert await cache.get_or_set("n", "k", 60, Counter(8)()) == 8


async def test_an_invalidation_is_seen_at_once_by_another_instance(caches: Caches) -> None:
    writer, reader = caches.make(), caches.make()
    for trial in range(TRIALS):
        assert await reader.get_or_set("owner", "count", 60, Counter(trial)()) == trial
        await writer.invalidate("owner")
        assert await reader.get_or_set("owner", "count", 60, Counter(-1)()) == -1
        await writer.invalidate("owner")
    assert await reader.get_or_set("other", "count", 60, Counter(5)()) == 5
    await writer.invalidate("owner")
    assert await reader.get_or_set("other", "count", 60, Counter(6)()) == 5


async def test_a_value_computed_across_an_invalidation_is_not_served_after_it(
    caches: Caches,
) -> None:
    cache = caches.make()
    counter = Counter("before the change")
    counter.release.clear()
    slow = asyncio.create_task(cache.get_or_set("owner", "count", 60, counter()))
    await asyncio.sleep(0.05)
    await cache.invalidate("owner")  # a writer committed while the read was under way
    counter.release.set()
    assert await slow == "before the change"
    assert await cache.get_or_set("owner", "count", 60, Counter("after")()) == "after"


async def test_a_value_expires_after_its_ttl(caches: Caches) -> None:
    if caches.kind == "memory":
        clock = [0.0]
        cache: Cache = InMemoryCache(now=lambda: clock[0])
        await cache.get_or_set("n", "k", 1, Counter(1)())
        clock[0] = 1.5
    else:
        cache = caches.make()
        await cache.get_or_set("n", "k", 1, Counter(1)())
        await asyncio.sleep(1.2)
    assert await cache.get_or_set("n", "k", 1, Counter(2)()) == 2


async def test_the_memory_cache_keeps_at_most_its_bound() -> None:
    cache = InMemoryCache(max_entries=3)
    for n in range(5):
        await cache.get_or_set("n", f"k{n}", 60, Counter(n)())
    assert len(cache) == 3
    assert await cache.get_or_set("n", "k0", 60, Counter("again")()) == "again"
    assert await cache.get_or_set("n", "k4", 60, Counter("again")()) == 4


async def test_an_unreachable_redis_computes_without_the_cache_and_logs_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from tests.e2e.cli_support import free_port

    cache = RedisCache(f"redis://127.0.0.1:{free_port()}/0")
    counter = Counter(9)
    try:
        with caplog.at_level(logging.WARNING, logger="keel.cache"):
            for _ in range(3):
                assert await cache.get_or_set("n", "k", 60, counter()) == 9
            await cache.invalidate("n")
    finally:
        await cache.close()
    assert counter.runs == 3
    assert [r.message for r in caplog.records if r.name == "keel.cache"].count(
        "cache.unavailable"
    ) == 1


async def test_namespaces_without_a_version_of_their_own_never_read_an_old_one() -> None:
    """The memory cache keeps the versions of its most recently invalidated namespaces
    only; one let go must not fall back to a version its old entries were stored under."""
    cache = InMemoryCache(max_namespaces=3)
    assert await cache.get_or_set("a", "k", 60, Counter("a, before any change")()) == (
        "a, before any change"
    )
    assert await cache.get_or_set("quiet", "k", 60, Counter("quiet, first")()) == "quiet, first"
    await cache.invalidate("a")
    assert await cache.get_or_set("a", "k", 60, Counter("a, changed once")()) == "a, changed once"
    for other in ("b", "c", "d"):  # "a" is the oldest of four: its version is let go
        await cache.invalidate(other)
    assert cache.namespaces == 3
    assert await cache.get_or_set("a", "k", 60, Counter("a, now")()) == "a, now"
    assert await cache.get_or_set("quiet", "k", 60, Counter("quiet, again")()) == "quiet, again"
    # Many owners' namespaces, one change each: the versions stay bounded.
    for n in range(1000):
        await cache.invalidate(f"owner-{n}")
    assert cache.namespaces == 3


@pytest.mark.redis
async def test_a_namespace_leaves_redis_once_none_of_its_values_can_be_left(
    redis_url: str, key_prefix: str
) -> None:
    from redis.asyncio import Redis

    cache = RedisCache(
        redis_url, prefix=key_prefix, operation_seconds=PATIENT_SECONDS, version_keep_seconds=2
    )
    client = Redis.from_url(redis_url)
    version = f"{key_prefix}owner:v"
    try:
        assert await cache.get_or_set("owner", "count", 1, Counter(1)()) == 1
        await cache.invalidate("owner")
        assert 0 < await client.ttl(version) <= 2
        assert await cache.get_or_set("owner", "count", 1, Counter(2)()) == 2
        assert 0 < await client.ttl(version) <= 2  # each value stored keeps it longer
        await asyncio.sleep(2.5)
        assert await client.exists(version) == 0
        assert await cache.get_or_set("owner", "count", 1, Counter(3)()) == 3
        await cache.invalidate("owner")  # the version starts again: nothing old under it
        assert await cache.get_or_set("owner", "count", 1, Counter(4)()) == 4
    finally:
        await cache.close()
        await client.aclose()


@pytest.mark.redis
async def test_a_value_computed_across_an_invalidation_is_not_stored_in_redis(
    redis_url: str, key_prefix: str
) -> None:
    from redis.asyncio import Redis

    cache = RedisCache(redis_url, prefix=key_prefix, operation_seconds=PATIENT_SECONDS)
    client = Redis.from_url(redis_url)
    try:
        counter = Counter("before the change")
        counter.release.clear()
        slow = asyncio.create_task(cache.get_or_set("owner", "count", 60, counter()))
        await asyncio.sleep(0.05)
        await cache.invalidate("owner")
        counter.release.set()
        assert await slow == "before the change"
        assert await client.exists(f"{key_prefix}owner:0:count") == 0
        assert await cache.get_or_set("owner", "count", 60, Counter("after")()) == "after"
        assert await client.exists(f"{key_prefix}owner:1:count") == 1
    finally:
        await cache.close()
        await client.aclose()
