"""asyncpg's own connection, borrowed from SQLAlchemy's pool: PostgreSQL's fast path.

SQLAlchemy's execution and result layers cost more than the round trip of a read by key.
Here a statement is compiled once by SQLAlchemy and then run by asyncpg itself, on a
connection checked out of the same pool (so the pool's size, timeout, recycling and light
reset on return hold for it too), with no transaction begun.

The checkout and the return run the pool's synchronous code straight from the coroutine
when they cannot need to wait (``_fast_checkout``, ``_fast_return``), and through
``greenlet_spawn`` otherwise. A greenlet per checkout and per return cost more than the
pool's own work; on the hot reads, a tenth of a request's CPU.

This is the one module that relies on SQLAlchemy beyond its documented use: the compiled
statement's order of positional parameters (``SQLCompiler.positiontup``), the helper that
runs the pool's synchronous code from asyncio (``greenlet_spawn``), and that this code,
called outside a greenlet, fails with ``MissingGreenlet`` at its first wait, before it has
waited, the pool undoing what it began as it does for a connection that cannot be made.
``tests/unit/adapters/sqlalchemy/test_driver_statements.py`` and
``tests/integration/test_driver_checkout.py`` fail when an upgrade changes any of these."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select
from sqlalchemy.engine import URL, Dialect
from sqlalchemy.exc import MissingGreenlet
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import Pool, PoolProxiedConnection, QueuePool
from sqlalchemy.util import greenlet_spawn

from adapters.sqlalchemy.errors import raise_if_timed_out
from application.errors import StorageUnavailable

if TYPE_CHECKING:
    import asyncpg  # type: ignore[import-untyped]  # no annotations of its own

# The execution option that asks for a plan made for each call's values (DriverStatement).
PLAN_EACH_TIME = "keel_plan_each_time"
# Connections being closed in the background, held until they are.
_closing: set[asyncio.Future[Any]] = set()


@dataclass(frozen=True, slots=True)
class DriverStatement:
    """A statement as asyncpg takes it: the SQL, and its parameters' names in order."""

    sql: str
    names: tuple[str, ...]
    # Planned for the values of each call, never with PostgreSQL's generic plan (which a
    # cached prepared statement gets after five runs): for a statement whose best plan
    # depends on the value, such as a title search, where the rare word wants the trigram
    # index and the common one the newest-first walk.
    plan_each_time: bool = False

    def values(self, parameters: Mapping[str, Any]) -> list[Any]:
        return [parameters[name] for name in self.names]


def for_driver(statement: Select[Any], dialect: Dialect) -> DriverStatement:
    """``statement`` compiled for asyncpg. Every value must be a named parameter given at
    each call, of a type asyncpg takes as it is: anything else would need SQLAlchemy's
    execution path, and is refused here rather than sent wrong."""
    compiled = statement.compile(dialect=dialect)
    names = compiled.positiontup
    if names is None or "POSTCOMPILE" in compiled.string:
        raise TypeError(f"not a statement asyncpg can run as compiled: {compiled.string}")
    for name, bind in compiled.binds.items():
        if bind.value is not None or bind.callable is not None:
            raise TypeError(f"parameter {name!r} has a value of its own: name it instead")
        if bind.type.dialect_impl(dialect).bind_processor(dialect) is not None:
            raise TypeError(f"parameter {name!r} needs SQLAlchemy's conversion")
    plan_each_time = bool(statement.get_execution_options().get(PLAN_EACH_TIME, False))
    return DriverStatement(compiled.string, tuple(names), plan_each_time)


class DriverFailed(Exception):
    """A statement failed on the driver's connection for another reason than running out
    of time (most likely a connection the database dropped); the connection is not given
    back. A read may run again through SQLAlchemy, which reports failures as it always
    does."""


class DriverConnection:
    """One checkout of asyncpg's connection from the pool; ``close()`` gives it back."""

    __slots__ = ("_pooled",)

    def __init__(self, pooled: PoolProxiedConnection) -> None:
        self._pooled: PoolProxiedConnection | None = pooled

    @classmethod
    async def checkout(cls, engine: AsyncEngine) -> DriverConnection:
        try:
            pooled = _fast_checkout(engine.sync_engine.pool)
            if pooled is None:
                pooled = await engine.raw_connection()
            return cls(pooled)
        except PoolTimeout:
            raise
        except Exception as error:  # the driver's own, from connecting
            raise StorageUnavailable() from error

    @property
    def driver_connection(self) -> asyncpg.Connection:
        """asyncpg's ``Connection``, for what only tests look at (its server process)."""
        assert self._pooled is not None, "used after close()"
        return self._pooled.driver_connection

    async def fetch(
        self, statement: DriverStatement, parameters: Mapping[str, Any]
    ) -> list[asyncpg.Record]:
        """The rows (asyncpg's records, which are sequences), or ``DriverFailed``;
        ``StorageUnavailable`` when the statement ran out of time, which is not worth
        running again: it would only wait as long."""
        method = "_fetch_planned" if statement.plan_each_time else "fetch"
        records: list[asyncpg.Record] = await self._run(
            method, statement.sql, statement.values(parameters)
        )
        return records

    async def execute(self, sql: str, values: Sequence[Any]) -> None:
        """One statement, committed by itself (no transaction is open); ``DriverFailed`` or
        ``StorageUnavailable`` when it fails."""
        await self._run("execute", sql, values)

    async def _run(self, method: str, sql: str, values: Sequence[Any]) -> Any:
        pooled = self._pooled
        assert pooled is not None, "used after close()"
        try:
            connection = pooled.driver_connection
            assert connection is not None, "a pooled connection always has its driver's"
            if method == "_fetch_planned":
                # A statement prepared for this call alone (run once, so planned for these
                # values), closed by asyncpg once it is let go: one round trip more.
                prepared = await connection.prepare(sql)
                return await prepared.fetch(*values)
            return await getattr(connection, method)(sql, *values)
        except Exception as error:
            # Broken, most likely: closed, not given back to the pool.
            self._pooled = None
            pooled.invalidate()
            raise_if_timed_out(error)
            raise DriverFailed() from error
        except BaseException:
            # Cancelled in the middle of a statement: asyncpg asks the server to cancel
            # it; the connection is closed once that is done, in the background, and never
            # given back to the pool.
            self._pooled = None
            _closing.add(task := asyncio.ensure_future(greenlet_spawn(pooled.invalidate)))
            task.add_done_callback(_closing.discard)
            raise

    async def close(self) -> None:
        pooled, self._pooled = self._pooled, None
        if pooled is not None and not _fast_return(pooled):
            await greenlet_spawn(pooled.close)


def _fast_checkout(pool: Pool) -> PoolProxiedConnection | None:
    """A connection the pool holds idle, checked out without a greenlet; ``None`` when the
    checkout may have to wait (none idle, so it waits for one or connects; a ping before
    each checkout), or turned out to (the idle one was due to be recycled, or had been
    invalidated, and must be replaced). The pool then stands as before the call, but for
    the replaced connection, closed: the caller checks out through the greenlet."""
    if not isinstance(pool, QueuePool) or getattr(pool, "_pre_ping", True):
        return None
    if pool.checkedin() == 0:
        return None
    try:
        return pool.connect()
    except MissingGreenlet:
        return None


def _fast_return(pooled: PoolProxiedConnection) -> bool:
    """Gives ``pooled`` back without a greenlet if that cannot wait; whether it did. The
    return rolls back nothing (no transaction was begun through SQLAlchemy: the statements
    went to asyncpg) and closes nothing while the pool has room for the connection."""
    pool = getattr(pooled, "_pool", None)
    if not isinstance(pool, QueuePool) or pool.checkedin() >= pool.size():
        return False
    if getattr(pooled.dbapi_connection, "_transaction", True) is not None:
        return False
    pooled.close()
    return True


def connector(url: URL, connect_args: dict[str, Any]) -> Callable[[], Awaitable[Any]]:
    """asyncpg's ``connect`` with what SQLAlchemy makes of the URL (its dialect's own
    reading: host, port, user, database, the query's options) and ``connect_args``.

    The connection attempt is begun only when awaited. The pool's code may be run outside
    a greenlet (``DriverConnection``), where SQLAlchemy gives up a connection it
    would make before awaiting it: then nothing was begun, and nothing is left unawaited."""
    import asyncpg

    cargs, cparams = url.get_dialect()().create_connect_args(url)
    # The options of SQLAlchemy's adapter, not asyncpg's: left to their defaults.
    for adapter_option in _ADAPTER_OPTIONS:
        cparams.pop(adapter_option, None)
    params = {**cparams, **connect_args}

    def connect() -> Awaitable[Any]:
        return _WhenAwaited(lambda: asyncpg.connect(*cargs, **params))

    return connect


_ADAPTER_OPTIONS = ("prepared_statement_cache_size", "prepared_statement_name_func")


class _WhenAwaited:
    """An awaitable that makes its coroutine when awaited, not before."""

    __slots__ = ("_make",)

    def __init__(self, make: Callable[[], Awaitable[Any]]) -> None:
        self._make = make

    def __await__(self) -> Generator[Any, None, Any]:
        return self._make().__await__()


def trace_driver_statements() -> None:
    """A span for each statement this module runs on asyncpg's connection (OpenTelemetry's
    asyncpg instrumentation). SQLAlchemy's own statements are traced by its instrumentation:
    the prepared statements its dialect runs are left alone, one span per statement."""
    import asyncpg
    import wrapt
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.utils import unwrap

    AsyncPGInstrumentor().instrument()  # type: ignore[no-untyped-call]
    prepared = asyncpg.prepared_stmt.PreparedStatement
    for name, method in list(vars(prepared).items()):
        if isinstance(method, wrapt.FunctionWrapper):
            unwrap(prepared, name)
