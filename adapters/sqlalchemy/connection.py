"""The connection a unit of work's repositories execute on."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from typing import Any

from sqlalchemy import CursorResult, Executable, Select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import greenlet_spawn

from adapters.sqlalchemy.errors import raise_if_timed_out
from application.errors import StorageUnavailable

# A row as both paths give it: SQLAlchemy's Row and asyncpg's Record are sequences.
RowValues = Sequence[Any]

# The SQL, its parameters' names in order, and the compiled form; per dialect and
# statement shape (a handful: reads by key and the listings' filter combinations).
CompiledRead = tuple[str, list[str], SQLCompiler] | None
_compiled_reads: weakref.WeakKeyDictionary[Dialect, dict[Any, CompiledRead]] = (
    weakref.WeakKeyDictionary()
)
_COMPILED_LIMIT = 256
# Connections being closed in the background, held until they are.
_closing: set[asyncio.Future[Any]] = set()


class Connection:
    """A pooled connection that survives a database restart it has not yet noticed.

    A connection that sat in the pool while the database restarted is dead, and says so at
    its first statement. Nothing has happened on it yet, so that statement is safe to run
    again on a new connection, once; the pool itself replaces every connection older than
    the failure. This does what SQLAlchemy's ``pool_pre_ping`` does without its price, a
    round trip before every checkout. After the first statement a lost connection is an
    error like any other: the transaction it carried is gone.

    Read-only work on PostgreSQL runs its reads (``rows``) on asyncpg's own connection,
    with the statements compiled once: SQLAlchemy's execution and result layers cost more
    than the round trip for a read by key. No transaction is begun. Should a read fail
    there, for any reason, it runs again through SQLAlchemy on a pooled connection of its
    own, and so does everything after it: reads outside a transaction are always safe to
    repeat, and SQLAlchemy then reports the failure as it reports every other. Only a read
    that ran out of time is reported at once.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        connection: AsyncConnection | None,
        driver: PoolProxiedConnection | None = None,
    ) -> None:
        self._engine = engine
        self._connection = connection
        self._driver = driver
        self._used = False

    @classmethod
    async def open(cls, engine: AsyncEngine, *, driver_reads: bool = False) -> Connection:
        """``driver_reads``: ``engine`` hands out connections without a transaction, and
        reads may go to the driver's connection when the driver is asyncpg."""
        if driver_reads and engine.dialect.driver == "asyncpg":
            try:
                return cls(engine, None, await engine.raw_connection())
            except PoolTimeout:
                raise
            except Exception as error:  # the driver's own, from connecting
                raise StorageUnavailable() from error
        return cls(engine, await engine.connect())

    async def rows(
        self, statement: Select[Any], parameters: dict[str, Any] | None = None
    ) -> Sequence[RowValues]:
        """Every row of a read, each as a sequence of the selected columns' values."""
        driver = self._driver
        if driver is not None:
            read = _driver_read(statement, parameters or {}, self._engine.dialect)
            if read is not None:
                sql, values = read
                asyncpg_connection: Any = driver.driver_connection
                try:
                    records: Sequence[RowValues] = await asyncpg_connection.fetch(sql, *values)
                except Exception as error:
                    # Broken, most likely: closed, not given back to the pool. A statement
                    # that ran out of time is not run again: it would only wait as long.
                    self._driver = None
                    driver.invalidate()
                    raise_if_timed_out(error)
                except BaseException:
                    # Cancelled in the middle of a statement: asyncpg asks the server to
                    # cancel it; the connection is closed once that is done, in the
                    # background, and never given back to the pool.
                    self._driver = None
                    _closing.add(task := asyncio.ensure_future(greenlet_spawn(driver.invalidate)))
                    task.add_done_callback(_closing.discard)
                    raise
                else:
                    return records
        return (await self.execute(statement, parameters)).all()

    async def write_alone(self, sql: str, values: Sequence[Any]) -> bool:
        """Run one write on asyncpg's own connection of read-only work, where it commits by
        itself (one round trip, no transaction); ``False`` when there is none (the caller
        then writes through SQLAlchemy). A write is never run twice: a failure is
        reported, and the connection is not given back."""
        driver = self._driver
        if driver is None:
            return False
        asyncpg_connection: Any = driver.driver_connection
        try:
            await asyncpg_connection.execute(sql, *values)
        except Exception as error:
            self._driver = None
            driver.invalidate()
            raise_if_timed_out(error)
            raise StorageUnavailable() from error
        except BaseException:
            self._driver = None
            _closing.add(task := asyncio.ensure_future(greenlet_spawn(driver.invalidate)))
            task.add_done_callback(_closing.discard)
            raise
        return True

    async def execute(
        self, statement: Executable, parameters: dict[str, Any] | None = None
    ) -> CursorResult[Any]:
        if self._connection is None:
            # Not a read: the driver's connection goes back, SQLAlchemy's takes over.
            await self.close()
            self._connection = await self._engine.connect()
        if self._used:
            return await self._connection.execute(statement, parameters)
        self._used = True
        try:
            return await self._connection.execute(statement, parameters)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
        await self._connection.close()
        self._connection = await self._engine.connect()
        return await self._connection.execute(statement, parameters)

    async def commit(self) -> None:
        if self._connection is not None:
            await self._connection.commit()

    async def rollback(self) -> None:
        if self._connection is not None:
            await self._connection.rollback()

    async def close(self) -> None:
        driver, self._driver = self._driver, None
        if driver is not None:
            await greenlet_spawn(driver.close)
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()


def _driver_read(
    statement: Select[Any], parameters: dict[str, Any], dialect: Dialect
) -> tuple[str, list[Any]] | None:
    """The SQL and positional values for asyncpg, from the statement compiled once per
    shape; None when the statement needs SQLAlchemy's execution path."""
    cache_key = statement._generate_cache_key()
    if cache_key is None:
        return None
    cache = _compiled_reads.get(dialect)
    if cache is None:
        cache = _compiled_reads[dialect] = {}
    found = cache.get(cache_key.key)
    if found is None:
        compiled = statement.compile(dialect=dialect, cache_key=cache_key)
        # Values the dialect converts on the way in (none of the types read here do) are
        # left to SQLAlchemy.
        if compiled._bind_processors or compiled.positiontup is None:
            found = None
        else:
            found = (compiled.string, list(compiled.positiontup), compiled)
        if len(cache) >= _COMPILED_LIMIT:
            cache.clear()
        cache[cache_key.key] = found
    if found is None:
        return None
    sql, names, compiled = found
    values = compiled.construct_params(parameters, extracted_parameters=cache_key.bindparams)
    return sql, [values[name] for name in names]
