"""Events recorded with no change beside them: one INSERT into the outbox, committed by
itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.connection import Connection, autocommit
from adapters.sqlalchemy.driver import DriverConnection, DriverFailed
from adapters.sqlalchemy.errors import translate_errors
from adapters.sqlalchemy.outbox import outbox_rows
from adapters.sqlalchemy.tables import outbox
from application.errors import StorageUnavailable
from application.outbox import encode
from application.ports import Clock
from domain.events import Event

_COLUMNS = ("id", "kind", "payload", "created_at", "traceparent")


class SqlAlchemyEventRecorder:
    """On PostgreSQL the INSERT runs on asyncpg's own connection: one checkout, one round
    trip, no transaction. Elsewhere it runs through SQLAlchemy, on a connection handed out
    without a transaction. A write is never run twice: a failure is reported, and a broken
    connection is not given back."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Clock | None = None,
        on_events: Callable[[], object] | None = None,
    ) -> None:
        self._engine = engine
        self._through_sqlalchemy = autocommit(engine)
        self._on_driver = engine.dialect.driver == "asyncpg"
        self._now = clock.now if clock is not None else _utc_now
        self._on_events = on_events  # told once events are stored

    async def record(self, *events: Event) -> None:
        if not events:
            raise RuntimeError("nothing to record")
        rows = outbox_rows([encode(event) for event in events], self._now())
        if self._on_driver:
            await self._insert_on_driver(rows)
        else:
            with translate_errors():
                connection = await Connection.open(self._through_sqlalchemy)
                try:
                    await connection.execute(insert(outbox).values(rows))
                finally:
                    await connection.close()
        if self._on_events is not None:
            self._on_events()

    async def _insert_on_driver(self, rows: list[dict[str, Any]]) -> None:
        with translate_errors():
            connection = await DriverConnection.checkout(self._engine)
        try:
            await connection.execute(*_insert_sql(rows))
        except DriverFailed as failed:
            raise StorageUnavailable() from failed.__cause__
        finally:
            await connection.close()


def _insert_sql(rows: list[dict[str, Any]]) -> tuple[str, list[Any]]:
    """The INSERT for asyncpg, by hand (SQLAlchemy's multi-row VALUES compiles per count)."""
    width = len(_COLUMNS)
    groups = ", ".join(
        "(" + ", ".join(f"${n * width + c + 1}" for c in range(width)) + ")"
        for n in range(len(rows))
    )
    values = [row[column] for row in rows for column in _COLUMNS]
    return f"INSERT INTO outbox ({', '.join(_COLUMNS)}) VALUES {groups}", values  # noqa: S608


def _utc_now() -> datetime:
    return datetime.now(UTC)
