"""One behaviour for every SocketSlots: in memory, and in a real Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from adapters.live.redis_slots import RedisSocketSlots
from adapters.live.slots import InMemorySocketSlots
from application.errors import StorageUnavailable
from application.ports import SocketSlots

LIMIT = 3


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def slots(request: pytest.FixtureRequest) -> AsyncIterator[SocketSlots]:
    made: SocketSlots
    if request.param == "memory":
        made = InMemorySocketSlots(LIMIT)
    else:
        url = request.getfixturevalue("redis_url")
        prefix = request.getfixturevalue("key_prefix")
        made = RedisSocketSlots(url, limit=LIMIT, ttl_seconds=30, prefix=prefix)
    yield made
    await made.close()


async def test_a_user_gets_the_limit_and_one_more_once_one_is_given_back(
    slots: SocketSlots,
) -> None:
    alice, bob = uuid.uuid4(), uuid.uuid4()
    taken = [await slots.take(alice) for _ in range(LIMIT)]
    assert None not in taken
    assert len(set(taken)) == LIMIT
    assert await slots.take(alice) is None
    assert await slots.take(bob) is not None
    first = taken[0]
    assert first is not None
    await slots.release(alice, first)
    assert await slots.take(alice) is not None
    assert await slots.take(alice) is None


async def test_concurrent_takes_get_exactly_the_limit(slots: SocketSlots) -> None:
    for _ in range(5):
        user = uuid.uuid4()
        taken = await asyncio.gather(*(slots.take(user) for _ in range(40)))
        assert len([slot for slot in taken if slot is not None]) == LIMIT


async def test_an_unreachable_redis_refuses_and_a_release_does_not_raise() -> None:
    slots = RedisSocketSlots("redis://127.0.0.1:1/0", limit=LIMIT, ttl_seconds=30)
    try:
        with pytest.raises(StorageUnavailable):
            await slots.take(uuid.uuid4())
        await slots.release(uuid.uuid4(), "gone")
    finally:
        await slots.close()


@pytest.mark.redis
async def test_open_sockets_count_again_once_renewed_after_redis_lost_them(
    redis_url: str, key_prefix: str
) -> None:
    slots = RedisSocketSlots(redis_url, limit=LIMIT, ttl_seconds=30, prefix=key_prefix)
    other = RedisSocketSlots(redis_url, limit=LIMIT, ttl_seconds=30, prefix=key_prefix)
    client = Redis.from_url(redis_url)
    try:
        user = uuid.uuid4()
        taken = [await slots.take(user) for _ in range(LIMIT)]
        assert None not in taken
        await client.delete(f"{key_prefix}{user}")  # a Redis restarted empty
        await slots.renew()
        assert await other.take(user) is None
    finally:
        await client.aclose()
        await slots.close()
        await other.close()
