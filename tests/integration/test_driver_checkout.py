"""The driver's checkout and return without a greenlet: taken only when the pool cannot
have to wait, and otherwise the pool's ordinary path, with the pool whole after either.

A connection due to be recycled, one invalidated, an empty pool, a pool at its overflow:
each must give a working connection and leave the pool's counts, its connections on the
server and the checkout events as they would be through SQLAlchemy's own path."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from adapters.sqlalchemy import driver
from adapters.sqlalchemy.driver import DriverConnection, for_driver
from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.pool_events import watch_checkouts

pytestmark = [
    pytest.mark.postgres,
    # A connection attempt begun and given up outside a greenlet would be reported when
    # collected, as an unawaited coroutine.
    pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("error::RuntimeWarning"),
]

ROUNDS = 5
CONCURRENT = 50


class Watched:
    """An engine, the greenlets its checkouts and returns went through, and the pool's
    checkout events as Keel's metrics count them."""

    def __init__(self, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> None:
        self.engine = engine
        self.greenlets = 0
        self.in_use = 0
        watch_checkouts(engine, self._out, self._in)
        real_spawn: Callable[..., Any] = driver.greenlet_spawn
        real_raw = AsyncEngine.raw_connection

        async def counted_spawn(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            self.greenlets += 1
            return await real_spawn(fn, *args, **kwargs)

        async def counted_raw(engine: AsyncEngine) -> Any:
            self.greenlets += 1
            return await real_raw(engine)

        monkeypatch.setattr(driver, "greenlet_spawn", counted_spawn)
        monkeypatch.setattr(AsyncEngine, "raw_connection", counted_raw)

    @property
    def pool(self) -> QueuePool:
        pool = self.engine.sync_engine.pool
        assert isinstance(pool, QueuePool)
        return pool

    def _out(self) -> None:
        self.in_use += 1

    def _in(self) -> None:
        self.in_use -= 1

    async def pid(self, connection: DriverConnection) -> int:
        rows = await connection.fetch(
            for_driver(select(func.pg_backend_pid()), self.engine.dialect), {}
        )
        return int(rows[0][0])

    async def server_connections(self) -> int:
        """The pool's connections the server has (``application_name`` is ``keel``)."""
        connection = await DriverConnection.checkout(self.engine)
        try:
            rows = await connection.driver_connection.fetch(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE application_name = 'keel' AND datname = current_database()"
            )
        finally:
            await connection.close()
        return int(rows[0][0])


@pytest.fixture
async def make(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Callable[..., Watched]]:
    made: list[AsyncEngine] = []

    def build(**options: Any) -> Watched:
        engine = create_engine(postgres_url, **options)
        made.append(engine)
        return Watched(engine, monkeypatch)

    yield build
    for engine in made:
        await engine.dispose()


@pytest.fixture(autouse=True)
def no_pool_errors(caplog: pytest.LogCaptureFixture) -> Any:
    """The pool logs what it swallows (a reset or a close that failed) at ERROR."""
    with caplog.at_level(logging.ERROR, logger="sqlalchemy.pool"):
        yield
    assert [r for r in caplog.records if r.name.startswith("sqlalchemy.pool")] == []


async def test_an_idle_connection_comes_and_goes_back_without_a_greenlet(
    make: Callable[..., Watched],
) -> None:
    watched = make(pool_size=2, max_overflow=0)
    first = await DriverConnection.checkout(watched.engine)  # none idle: connects
    pid = await watched.pid(first)
    await first.close()
    assert watched.greenlets == 1, "connecting goes through SQLAlchemy's path"
    for _ in range(ROUNDS):
        connection = await DriverConnection.checkout(watched.engine)
        assert watched.pool.checkedout() == 1
        assert watched.in_use == 1
        assert await watched.pid(connection) == pid, "the idle connection, not a new one"
        await connection.close()
        assert watched.pool.checkedout() == 0
        assert watched.in_use == 0
    assert watched.greenlets == 1


async def test_a_connection_due_to_be_recycled_is_replaced_through_the_greenlet(
    make: Callable[..., Watched],
) -> None:
    watched = make(pool_size=2, max_overflow=0, pool_recycle=1)
    for _ in range(2):
        connection = await DriverConnection.checkout(watched.engine)
        old = await watched.pid(connection)
        await connection.close()
        await asyncio.sleep(1.2)
        spawned = watched.greenlets
        connection = await DriverConnection.checkout(watched.engine)
        assert watched.greenlets == spawned + 1, "the replacement is made in a greenlet"
        assert await watched.pid(connection) != old
        assert (watched.pool.checkedout(), watched.in_use) == (1, 1)
        await connection.close()
        assert (watched.pool.checkedout(), watched.in_use) == (0, 0)
    # The recycled connections are gone from the server: one is left, the one in the pool.
    for _ in range(50):
        if await watched.server_connections() == 1:
            break
        await asyncio.sleep(0.1)
    assert await watched.server_connections() == 1


async def test_an_invalidated_connection_is_replaced_through_the_greenlet(
    make: Callable[..., Watched],
) -> None:
    watched = make(pool_size=1, max_overflow=0)
    connection = await DriverConnection.checkout(watched.engine)
    old = await watched.pid(connection)
    await connection.close()
    raw = await watched.engine.raw_connection()
    raw.invalidate()  # as after a statement that found it broken
    connection = await DriverConnection.checkout(watched.engine)
    assert await watched.pid(connection) != old
    await connection.close()
    assert (watched.pool.checkedout(), watched.in_use) == (0, 0)
    assert watched.pool.checkedin() == 1


async def test_fifty_reads_at_once_on_a_small_pool_with_overflow_leave_it_whole(
    make: Callable[..., Watched],
) -> None:
    """Checkouts that must wait, overflow connections made and closed on return, and
    idle ones taken without a greenlet, all at once."""
    watched = make(pool_size=3, max_overflow=2, pool_timeout=30)
    nap = for_driver(
        select(literal_column("1")).where(func.pg_sleep(literal_column("0.01")).is_not(None)),
        watched.engine.dialect,
    )

    async def read() -> int:
        connection = await DriverConnection.checkout(watched.engine)
        try:
            assert watched.pool.checkedout() <= 5
            rows = await connection.fetch(nap, {})
            return int(rows[0][0])
        finally:
            await connection.close()

    for _ in range(ROUNDS):
        assert await asyncio.gather(*(read() for _ in range(CONCURRENT))) == [1] * CONCURRENT
        assert (watched.pool.checkedout(), watched.in_use) == (0, 0)
        assert watched.pool.checkedin() == 3, "the overflow connections were closed"
        assert await watched.server_connections() == 3
    assert watched.greenlets < ROUNDS * CONCURRENT * 2, "no checkout went without one"
