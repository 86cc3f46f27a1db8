"""Readiness logs each check's cause when it changes, never once per failure."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest

from application.errors import StorageUnavailable
from application.ports.blobs import BlobStoreUnavailable
from entrypoints.http.readiness import Readiness


class Check:
    """A probe whose failure (a cause, or None for none) the test sets."""

    def __init__(self) -> None:
        self.cause: str | None = None
        self.calls = 0

    async def check_schema(self) -> None:
        await self.check()

    async def check(self) -> None:
        self.calls += 1
        if self.cause is not None:
            raise StorageUnavailable(self.cause)

    where = "postgresql+asyncpg://keel:***@db/keel"


class StoreCheck(Check):
    async def check(self) -> None:
        self.calls += 1
        if self.cause is not None:
            raise BlobStoreUnavailable(self.cause)


class KeyCheck:
    """Whether ENCRYPTION_KEY is set, and the cause the test sets when it is needed."""

    def __init__(self, key_configured: bool = True) -> None:
        self.key_configured = key_configured
        self.needed: str | None = None

    async def cause(self) -> str | None:
        return self.needed


class FakeContainer:
    def __init__(self, redis: Check | None = None, key: KeyCheck | None = None) -> None:
        self.database, self.jobs, self.redis = Check(), Check(), redis
        self.storage = StoreCheck()
        self.key = key or KeyCheck()

    def encryption_key_check(self) -> KeyCheck:
        return self.key

    def blob_store(self) -> StoreCheck:
        return self.storage

    def health_probe(self) -> Check:
        return self.database

    def job_queue(self) -> Check:
        return self.jobs

    def rate_limit_store(self) -> Check | None:
        return self.redis


def health_log(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    return [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "keel.health"]


def readiness(container: FakeContainer, storage_seconds: float = 10.0) -> Readiness:
    return Readiness(container, retry_seconds=0.01, storage_seconds=storage_seconds)  # type: ignore[arg-type]  # a fake


async def test_each_change_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "keel.health")
    container = FakeContainer()
    ready = readiness(container)
    container.database.cause = "authentication failed"
    for _ in range(20):
        assert await ready.checks() == {"database": "authentication failed", "storage": "ok"}
    container.database.cause = None
    for _ in range(5):
        assert await ready.checks() == {"database": "ok", "jobs": "ok", "storage": "ok"}
    container.database.cause = "connection refused"
    for _ in range(20):
        await ready.checks()
    assert health_log(caplog) == [
        ("WARNING", "database check failing: authentication failed"),
        ("INFO", "database check recovered"),
        ("WARNING", "database check failing: connection refused"),
    ]


async def test_start_up_warns_once_naming_the_cause_and_where(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "keel.health")
    container = FakeContainer(redis=Check())
    container.database.cause = "behind migration 0007 (at 0003, 3 of 7)"
    container.redis.cause = "connection refused"  # type: ignore[union-attr]
    ready = readiness(container)
    await ready.start()
    try:
        await asyncio.sleep(0.1)  # the watcher checks again meanwhile: nothing new to say
        assert container.database.calls > 2
    finally:
        await ready.stop()
    assert health_log(caplog) == [
        (
            "WARNING",
            "database not ready at start-up: behind migration 0007 (at 0003, 3 of 7) "
            "(postgresql+asyncpg://keel:***@db/keel)",
        ),
        ("WARNING", "redis not ready at start-up: connection refused"),
    ]


async def test_a_failed_request_wakes_one_watcher_until_recovery(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "keel.health")
    container = FakeContainer()
    ready = readiness(container)
    await ready.start()
    container.database.cause = "timed out"
    for _ in range(20):
        ready.notice_failure()
    await asyncio.sleep(0.05)
    container.database.cause = None
    await _until(lambda: len(health_log(caplog)) == 2)
    calls = container.database.calls
    await asyncio.sleep(0.05)
    assert container.database.calls == calls  # the watcher stopped once all passed
    await ready.stop()
    assert health_log(caplog) == [
        ("WARNING", "database check failing: timed out"),
        ("INFO", "database check recovered"),
    ]


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while True:
            if condition():
                return
            await asyncio.sleep(0.01)


async def test_storage_is_named_when_it_cannot_be_written() -> None:
    container = FakeContainer()
    container.storage.cause = "S3 endpoint unreachable"
    checks = await readiness(container).checks()
    assert checks == {"database": "ok", "jobs": "ok", "storage": "S3 endpoint unreachable"}


async def test_a_passing_storage_check_is_kept_a_while_and_a_failing_one_is_not() -> None:
    """The check writes to the store: probes in a burst, even concurrent ones, cost one."""
    container = FakeContainer()
    ready = readiness(container, storage_seconds=0.3)
    await asyncio.gather(*(ready.checks() for _ in range(10)))
    for _ in range(10):
        assert (await ready.checks())["storage"] == "ok"
    assert container.storage.calls == 1
    container.storage.cause = "S3 bucket does not exist"
    await asyncio.sleep(0.35)
    assert (await ready.checks())["storage"] == "S3 bucket does not exist"
    container.storage.cause = None
    await asyncio.sleep(0.02)  # past the retry interval: a recovery is seen at once
    assert (await ready.checks())["storage"] == "ok"
    assert container.storage.calls == 3


async def test_a_second_factor_on_without_a_key_makes_it_unready() -> None:
    """Checked only where no key is set; the cause names ENCRYPTION_KEY."""
    assert "encryption" not in await readiness(FakeContainer()).checks()
    container = FakeContainer(key=KeyCheck(key_configured=False))
    ready = readiness(container)
    assert (await ready.checks())["encryption"] == "ok"
    container.key.needed = "ENCRYPTION_KEY is not set and a second factor is on"
    assert (await ready.checks())["encryption"] == container.key.needed
    container.database.cause = "The database is unavailable"
    assert "encryption" not in await ready.checks()  # not asked of a database that is down
