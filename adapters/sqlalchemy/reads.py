"""How the read side runs a statement: through SQLAlchemy, or on asyncpg's connection
(PostgreSQL's fast path) with SQLAlchemy behind it. Each read is one statement on a
connection of its own, checked out for it, with no transaction around it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.connection import Connection, autocommit
from adapters.sqlalchemy.driver import DriverConnection, DriverFailed, DriverStatement, for_driver
from adapters.sqlalchemy.errors import translate_errors

# A row as both ways give it: SQLAlchemy's Row and asyncpg's Record are sequences.
Rows = Sequence[Sequence[Any]]


class Reads(Protocol):
    async def rows(self, statement: Select[Any], parameters: dict[str, Any]) -> Rows:
        """Every row of the statement; ``StorageUnavailable`` when the database cannot
        answer."""
        ...


class SqlAlchemyReads:
    """Statements through SQLAlchemy, on connections handed out without a transaction (no
    ``BEGIN`` and ``ROLLBACK`` round trips around a single read). A connection the database
    dropped while it sat in the pool is replaced once (``Connection``)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = autocommit(engine)

    async def rows(self, statement: Select[Any], parameters: dict[str, Any]) -> Rows:
        with translate_errors():
            connection = await Connection.open(self._engine)
            try:
                return (await connection.execute(statement, parameters)).all()
            finally:
                await connection.close()


class AsyncpgReads:
    """Statements on asyncpg's own connection, each compiled once. Should a read fail
    there, for any reason but running out of time, it runs again through SQLAlchemy on a
    connection of its own: a read outside a transaction is always safe to repeat, and
    SQLAlchemy then reports the failure as it reports every other. A read that ran out of
    time is reported at once."""

    def __init__(self, engine: AsyncEngine, fallback: SqlAlchemyReads) -> None:
        self._engine = engine
        self._fallback = fallback
        # The reads' statements are a handful, built once (``queries``): compiled once each.
        self._compiled: dict[Select[Any], DriverStatement] = {}

    async def rows(self, statement: Select[Any], parameters: dict[str, Any]) -> Rows:
        compiled = self._compiled.get(statement)
        if compiled is None:
            compiled = self._compiled[statement] = for_driver(statement, self._engine.dialect)
        with translate_errors():
            connection = await DriverConnection.checkout(self._engine)
        try:
            rows: Rows = await connection.fetch(compiled, parameters)
        except DriverFailed:
            return await self._fallback.rows(statement, parameters)
        finally:
            await connection.close()
        return rows


def reads_for(engine: AsyncEngine) -> Reads:
    """asyncpg's fast path where the engine's driver is asyncpg, SQLAlchemy elsewhere."""
    through_sqlalchemy = SqlAlchemyReads(engine)
    if engine.dialect.driver == "asyncpg":
        return AsyncpgReads(engine, through_sqlalchemy)
    return through_sqlalchemy
