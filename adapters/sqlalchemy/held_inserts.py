"""Inserts a unit of work holds until its next statement or its commit.

A commit that finds nothing but held inserts (an item and its event in the outbox: the
usual write) sends them on PostgreSQL as one statement, each insert but the last a
data-modifying ``WITH``: one round trip where ``BEGIN``, each ``INSERT`` and ``COMMIT``
took one each. A single statement is atomic by itself, so the item and its outbox entry
are still stored together or not at all."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CursorResult, Executable, Select, Table, bindparam, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.connection import Connection
from adapters.sqlalchemy.driver import DriverConnection, DriverFailed, DriverStatement, for_driver
from adapters.sqlalchemy.errors import foreign_key_violated, translate_errors
from adapters.sqlalchemy.held_change import HeldChange, send_together
from application.errors import ChangedMeanwhile, StorageUnavailable

Shape = tuple[tuple[Table, tuple[str, ...]], ...]


@dataclass(frozen=True, slots=True)
class HeldInsert:
    table: Table
    values: dict[str, Any]
    # Raised instead when the row names one that is not there (a foreign key).
    missing_reference: Callable[[], Exception] | None = None


class WorkConnection(Connection):
    """A unit of work's connection: checked out at its first statement, held inserts
    sent before any other statement (so that a read sees them) or at the commit.

    On PostgreSQL a plain read that comes first runs on asyncpg's connection with no
    transaction (``read_first``): at READ COMMITTED a statement that takes no lock sees
    the same inside a transaction as outside. A compare-and-set change may then be held
    too (``hold_change``) and sent with the held inserts at the commit, as one statement
    that reports ``ChangedMeanwhile`` when it changed nothing: a read and a write, two
    round trips, where ``BEGIN``, the read, the change, each insert and ``COMMIT`` took
    one each."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine, None)
        self._one_statement = (
            OneStatementInserts(engine) if engine.dialect.driver == "asyncpg" else None
        )
        self._held: list[HeldInsert] = []
        self._change: HeldChange | None = None
        # Kept from ``read_first`` for a change held after it: one checkout, not two.
        self._driver: DriverConnection | None = None

    def hold(self, row: HeldInsert) -> None:
        self._held.append(row)

    async def read_first(
        self, statement: Select[Any], parameters: dict[str, Any]
    ) -> Sequence[Sequence[Any]] | None:
        """The rows, read on asyncpg's connection outside any transaction, where this is
        the unit of work's first statement on PostgreSQL; None otherwise (or when that
        connection broke), for the caller to ``execute`` the statement instead."""
        if self._one_statement is None or self.opened or self._held or self._change:
            return None
        compiled = _for_driver(statement, self._engine.dialect)
        if self._driver is None:
            with translate_errors():
                self._driver = await DriverConnection.checkout(self._engine)
        try:
            rows: Sequence[Sequence[Any]] = await self._driver.fetch(compiled, parameters)
        except DriverFailed:
            self._driver = None  # broken: the driver's module does not give it back
            return None
        return rows

    def can_hold_change(self) -> bool:
        """Whether a compare-and-set change may wait for the commit: on PostgreSQL, with
        no transaction begun and nothing else held."""
        return (
            self._one_statement is not None
            and not self.opened
            and not self._held
            and self._change is None
        )

    def hold_change(self, change: HeldChange) -> None:
        assert self.can_hold_change(), "a change is held only before anything else"
        self._change = change

    async def execute(
        self, statement: Executable, parameters: dict[str, Any] | None = None
    ) -> CursorResult[Any]:
        assert self._change is None, "nothing runs between a held change and the commit"
        # Given back before SQLAlchemy's checkout: never two connections held at once.
        await self._give_back_driver()
        if self._held:
            await self._send_held()
        return await super().execute(statement, parameters)

    async def commit(self) -> None:
        if self._change is not None:
            await self._commit_change(self._change)
            return
        await self._give_back_driver()
        if self._held and not self.opened and self._one_statement is not None:
            held, self._held = self._held, []
            if await self._one_statement.run(held):
                return
            self._held = held  # the driver's connection broke before the server answered
        if self._held:
            await self._send_held()
        await super().commit()

    async def rollback(self) -> None:
        self._held = []
        self._change = None
        await super().rollback()

    async def close(self) -> None:
        try:
            await self._give_back_driver()
        finally:
            await super().close()

    async def _give_back_driver(self) -> None:
        driver, self._driver = self._driver, None
        if driver is not None:
            await driver.close()

    async def _commit_change(self, change: HeldChange) -> None:
        held, self._held, self._change = self._held, [], None
        sent = await send_together(self._engine, change, held, self._driver)
        await self._give_back_driver()
        if sent:
            return
        # The connection broke before the server answered: the ordinary way, in a
        # transaction, where the change is checked again.
        with translate_errors():
            result = await Connection.execute(self, change.statement, change.values)
        if result.rowcount != 1:
            await super().rollback()
            raise ChangedMeanwhile()
        self._held = held
        await self._send_held()
        await super().commit()

    async def _send_held(self) -> None:
        held, self._held = self._held, []
        for row in held:
            with translate_errors(missing_reference=row.missing_reference):
                await Connection.execute(self, insert(row.table), row.values)


@functools.lru_cache(maxsize=16)
def _for_driver(statement: Select[Any], dialect: Dialect) -> DriverStatement:
    return for_driver(statement, dialect)


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    # For each positional parameter: which held row, which column, and the conversion.
    slots: tuple[tuple[int, str, Callable[[Any], Any] | None], ...]


class OneStatementInserts:
    """Held inserts as one statement on asyncpg's own connection, compiled once for each
    shape (which tables, in which order, with which columns: a handful)."""

    __slots__ = ("_engine",)

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def run(self, held: Sequence[HeldInsert]) -> bool:
        """True once the rows are stored; False when the connection broke before the
        server said anything (the caller sends them the ordinary way: a row that did get
        stored is refused then by its primary key, never stored twice). Errors the server
        reports are raised as the ordinary way raises them."""
        shape = tuple((row.table, tuple(row.values)) for row in held)
        compiled = _compiled(shape, self._engine.dialect)
        values = [
            convert(held[n].values[key]) if convert else held[n].values[key]
            for n, key, convert in compiled.slots
        ]
        with translate_errors():
            connection = await DriverConnection.checkout(self._engine)
        try:
            await connection.execute(compiled.sql, values)
        except DriverFailed as failed:
            reported = failed.__cause__
            if getattr(reported, "sqlstate", None) is None:
                return False
            if foreign_key_violated(reported):
                missing = [row.missing_reference for row in held if row.missing_reference]
                if len(missing) == 1:
                    raise missing[0]() from reported
            raise StorageUnavailable("The database refused a write") from reported
        finally:
            await connection.close()
        return True


@functools.lru_cache(maxsize=64)
def _compiled(shape: Shape, dialect: Dialect) -> _Compiled:
    statements = [
        insert(table).values(
            {key: bindparam(f"r{n}_{key}", type_=table.c[key].type) for key in keys}
        )
        for n, (table, keys) in enumerate(shape)
    ]
    last = statements[-1]
    if len(statements) > 1:
        last = last.add_cte(*(s.cte(f"held_{n}") for n, s in enumerate(statements[:-1])))
    compiled = last.compile(dialect=dialect)
    names = compiled.positiontup
    if names is None:
        raise TypeError(f"not a statement asyncpg can run as compiled: {compiled.string}")
    slots = []
    for name in names:
        bind = compiled.binds[name]
        row, _, key = name[1:].partition("_")
        convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
        slots.append((int(row), key, convert))
    return _Compiled(compiled.string, tuple(slots))
