"""The listings' totals come from a cached count: every creation and deletion is seen by
the next listing at once, in this app and (through Redis) in another one."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from dependency_injector import providers

from adapters.cache.redis import RedisCache
from entrypoints.http import app as app_module
from entrypoints.http.app import create_app
from tests.e2e.http_support import World, make_settings, serving
from tests.support.redis import PATIENT_SECONDS

ROUNDS = 5
TRIALS = 5
CONCURRENT = 10
ONE = {"page_size": 1}


async def totals(world: World, reader: World) -> tuple[int, int]:
    """Alice's total as she sees it, and everyone's as the administrator does, read in
    ``reader``'s app. Pages of one: the last page counts itself, a first page of more does
    not (it takes the cached count)."""
    own = await reader.client.get("/api/v1/items", params=ONE, headers=world.headers["alice"])
    everyone = await reader.client.get("/api/v1/items", params=ONE, headers=world.headers["root"])
    assert own.status_code == everyone.status_code == 200
    return own.json()["total"], everyone.json()["total"]


async def check_counts_follow_changes(world: World, reader: World) -> None:
    assert await totals(world, reader) == (0, 0)
    made: list[dict[str, Any]] = []
    for n in range(1, ROUNDS + 1):
        made.append(await world.create("alice", f"item {n}"))
        assert await totals(world, reader) == (n, n)
    await world.create("bob", "bob's")
    assert await totals(world, reader) == (ROUNDS, ROUNDS + 1)
    for n, item in enumerate(made[:2], start=1):
        deleted = await world.client.delete(
            f"/api/v1/items/{item['id']}", headers=world.headers["alice"]
        )
        assert deleted.status_code == 204
        assert await totals(world, reader) == (ROUNDS - n, ROUNDS + 1 - n)
    gone = await world.client.delete(
        f"/api/v1/users/{world.ids['alice']}", headers=world.headers["root"]
    )
    assert gone.status_code == 204
    everyone = await reader.client.get("/api/v1/items", params=ONE, headers=world.headers["root"])
    assert everyone.json()["total"] == 1  # bob's


async def test_a_listing_total_follows_each_change_at_once(world: World) -> None:
    await check_counts_follow_changes(world, world)


@pytest.fixture
async def two_apps(
    migrated_url: str, redis_url: str, key_prefix: str
) -> AsyncIterator[tuple[World, World]]:
    """Two app instances sharing the database and Redis: two workers, or two machines."""
    # One secret: a token from one app is good in the other, as across workers.
    settings = make_settings(
        migrated_url, redis_url=redis_url, jwt_secret=secrets.token_urlsafe(48)
    )
    apps = []
    for _ in range(2):
        container = app_module.build_container(settings)
        # Keys of this test's own, and a Redis client for each app. A patient deadline: an
        # invalidation timed out on a loaded machine is an outage (the count stays until
        # its TTL), which is not what is tested here.
        cache = RedisCache(redis_url, prefix=key_prefix, operation_seconds=PATIENT_SECONDS)
        container.cache.override(providers.Object(cache))
        apps.append(create_app(settings, container))
    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(serving(app)) for app in apps]
        writer, reader = World(clients[0], apps[0]), World(clients[1], apps[1])
        for name in ("alice", "bob"):
            await writer.add(name)
        await writer.add("root", admin=True)
        yield writer, reader


@pytest.mark.redis
async def test_a_change_in_one_app_is_seen_by_another_through_redis(
    two_apps: tuple[World, World],
) -> None:
    writer, reader = two_apps
    # The second app has counted before the changes: it holds a count to invalidate.
    await check_counts_follow_changes(writer, reader)


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_counts_read_during_concurrent_creations_settle_on_the_truth(world: World) -> None:
    """Listings racing creations may cache a count from before a commit: the version bumped
    after that commit makes it unread, so the total read once they are done is right."""
    made = 0
    for _ in range(TRIALS):
        creations = [world.create("alice", f"racing {made + n}") for n in range(CONCURRENT)]
        reads = [totals(world, world) for _ in range(CONCURRENT)]
        await asyncio.gather(*creations, *reads)
        made += CONCURRENT
        assert await totals(world, world) == (made, made)
