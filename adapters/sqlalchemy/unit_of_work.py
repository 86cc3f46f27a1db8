"""One database transaction per use-case call."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.attachments import SqlAlchemyAttachmentRepository
from adapters.sqlalchemy.errors import translate_errors
from adapters.sqlalchemy.held_inserts import WorkConnection
from adapters.sqlalchemy.one_time_tokens import SqlAlchemyOneTimeTokenStore
from adapters.sqlalchemy.outbox import SqlAlchemyOutboxStore
from adapters.sqlalchemy.personal_tokens import SqlAlchemyPersonalTokenStore
from adapters.sqlalchemy.repositories import SqlAlchemyItemRepository, SqlAlchemyUserRepository
from adapters.sqlalchemy.second_factor import SqlAlchemySecondFactorStore
from adapters.sqlalchemy.security_events import SqlAlchemySecurityEventStore
from adapters.sqlalchemy.sessions import SqlAlchemySessionStore
from application.outbox import encode
from application.ports import Clock
from domain.events import Event


class SqlAlchemyUnitOfWork:
    """``async with uow:`` takes a pooled connection and a transaction at its first
    statement; leaving the block rolls back whatever was not committed and gives the
    connection back. Inserts wait for the next statement or the commit: on PostgreSQL a
    unit of work that only inserts (an item and its event) commits as one statement
    (``held_inserts``)."""

    users: SqlAlchemyUserRepository
    items: SqlAlchemyItemRepository
    sessions: SqlAlchemySessionStore
    personal_tokens: SqlAlchemyPersonalTokenStore
    one_time_tokens: SqlAlchemyOneTimeTokenStore
    outbox: SqlAlchemyOutboxStore
    security_events: SqlAlchemySecurityEventStore
    attachments: SqlAlchemyAttachmentRepository
    second_factor: SqlAlchemySecondFactorStore

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Clock | None = None,
        on_events: Callable[[], object] | None = None,
    ) -> None:
        self._engine = engine
        self._now = clock.now if clock is not None else _utc_now
        self._on_events = on_events  # told after a commit that stored events
        self._connection: WorkConnection | None = None
        self._events: list[Event] = []

    async def __aenter__(self) -> Self:
        self._connection = WorkConnection(self._engine)
        self.users = SqlAlchemyUserRepository(self._connection)
        self.items = SqlAlchemyItemRepository(self._connection)
        self.sessions = SqlAlchemySessionStore(self._connection)
        self.personal_tokens = SqlAlchemyPersonalTokenStore(self._connection)
        self.one_time_tokens = SqlAlchemyOneTimeTokenStore(self._connection)
        self.outbox = SqlAlchemyOutboxStore(self._connection)
        self.security_events = SqlAlchemySecurityEventStore(self._connection)
        self.attachments = SqlAlchemyAttachmentRepository(
            self._connection, self._engine.dialect.name
        )
        self.second_factor = SqlAlchemySecondFactorStore(self._connection)
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
        if events:
            await self.outbox.add([encode(event) for event in events], self._now())
        with translate_errors():
            await self._connection.commit()
        if events and self._on_events is not None:
            self._on_events()

    async def rollback(self) -> None:
        if self._connection is not None:
            with translate_errors():
                await self._connection.rollback()


def _utc_now() -> datetime:
    return datetime.now(UTC)
