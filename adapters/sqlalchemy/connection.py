"""The connection a unit of work's repositories, and the reads through SQLAlchemy,
execute on."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult, Executable
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


class Connection:
    """A pooled connection that survives a database restart it has not yet noticed.

    A connection that sat in the pool while the database restarted is dead, and says so at
    its first statement. Nothing has happened on it yet, so that statement is safe to run
    again on a new connection, once; the pool itself replaces every connection older than
    the failure. This does what SQLAlchemy's ``pool_pre_ping`` does without its price, a
    round trip before every checkout. After the first statement a lost connection is an
    error like any other: the transaction it carried is gone.

    Made with ``later()``, the connection is checked out at its first statement (a unit of
    work that ends up sending none, or sends its writes another way, takes none).
    """

    def __init__(self, engine: AsyncEngine, connection: AsyncConnection | None) -> None:
        self._engine = engine
        self._connection = connection
        self._used = False

    @classmethod
    async def open(cls, engine: AsyncEngine) -> Connection:
        return cls(engine, await engine.connect())

    @classmethod
    def later(cls, engine: AsyncEngine) -> Connection:
        return cls(engine, None)

    @property
    def opened(self) -> bool:
        return self._connection is not None

    async def execute(
        self, statement: Executable, parameters: dict[str, Any] | None = None
    ) -> CursorResult[Any]:
        if self._connection is None:
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
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()


def autocommit(engine: AsyncEngine) -> AsyncEngine:
    """The engine's AUTOCOMMIT view: the same pool, connections handed out without a
    transaction (and put back to the default isolation level on return). A statement that
    stands alone needs no ``BEGIN`` and ``ROLLBACK`` round trips around it. Make it once
    per engine: each call makes another view."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")
