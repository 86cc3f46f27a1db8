"""One database transaction per use-case call."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.connection import Connection
from adapters.sqlalchemy.errors import translate_errors
from adapters.sqlalchemy.one_time_tokens import SqlAlchemyOneTimeTokenStore
from adapters.sqlalchemy.outbox import SqlAlchemyOutboxStore
from adapters.sqlalchemy.repositories import SqlAlchemyItemRepository, SqlAlchemyUserRepository
from adapters.sqlalchemy.sessions import SqlAlchemySessionStore
from application.outbox import encode
from application.ports import Clock
from domain.events import Event


class SqlAlchemyUnitOfWork:
    """``async with uow:`` takes a pooled connection and a transaction; leaving the block
    rolls back whatever was not committed and gives the connection back.

    ``read_only`` work runs its statements without a transaction (AUTOCOMMIT): no ``BEGIN``
    and ``ROLLBACK`` round trips around a single read, which is most of a read's cost. On
    PostgreSQL its reads go straight to asyncpg (see ``Connection``)."""

    users: SqlAlchemyUserRepository
    items: SqlAlchemyItemRepository
    sessions: SqlAlchemySessionStore
    one_time_tokens: SqlAlchemyOneTimeTokenStore
    outbox: SqlAlchemyOutboxStore

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        read_only: bool = False,
        clock: Clock | None = None,
        on_events: Callable[[], object] | None = None,
    ) -> None:
        self._engine = _autocommit(engine) if read_only else engine
        self._now = clock.now if clock is not None else _utc_now
        self._on_events = on_events  # told after a commit that stored events
        self._read_only = read_only
        self._connection: Connection | None = None
        self._events: list[Event] = []

    async def __aenter__(self) -> Self:
        with translate_errors():
            self._connection = await Connection.open(self._engine, driver_reads=self._read_only)
        self.users = SqlAlchemyUserRepository(self._connection)
        self.items = SqlAlchemyItemRepository(self._connection)
        self.sessions = SqlAlchemySessionStore(self._connection)
        self.one_time_tokens = SqlAlchemyOneTimeTokenStore(self._connection)
        self.outbox = SqlAlchemyOutboxStore(self._connection)
        self._events = []
        return self

    def emit(self, event: Event) -> None:
        self._events.append(event)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            with translate_errors():
                await connection.rollback()
        finally:
            with translate_errors():
                await connection.close()

    async def commit(self) -> None:
        assert self._connection is not None, "commit() outside `async with`"
        events, self._events = self._events, []
        if self._read_only and not events:
            raise RuntimeError("a read-only unit of work commits events only")
        if events:
            await self.outbox.add([encode(event) for event in events], self._now())
        if not self._read_only:  # a read-only one's single INSERT committed by itself
            with translate_errors():
                await self._connection.commit()
        if events and self._on_events is not None:
            self._on_events()

    async def rollback(self) -> None:
        if self._connection is not None:
            with translate_errors():
                await self._connection.rollback()


@functools.cache
def _autocommit(engine: AsyncEngine) -> AsyncEngine:
    """The engine's AUTOCOMMIT view: the same pool, connections handed out without a
    transaction (and put back to the default isolation level on return)."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def _utc_now() -> datetime:
    return datetime.now(UTC)
