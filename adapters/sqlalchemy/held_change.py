"""A compare-and-set change held, like inserts, until the commit: on PostgreSQL the
change and the inserts held with it (its events in the outbox) are sent as one statement,
each insert made only from the row the change returned. One round trip, atomic by itself:
the events are stored exactly when the change is."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, Update, bindparam, func, insert, literal_column, select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.driver import DriverConnection, DriverFailed, DriverStatement
from adapters.sqlalchemy.errors import translate_errors
from application.errors import ChangedMeanwhile, StorageUnavailable

if TYPE_CHECKING:
    from adapters.sqlalchemy.held_inserts import HeldInsert

Shape = tuple[Update, tuple[tuple[Table, tuple[str, ...]], ...]]


@dataclass(frozen=True, slots=True)
class HeldChange:
    """``statement``'s named parameters are ``values``' keys; it changes at most one row."""

    statement: Update
    values: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Compiled:
    statement: DriverStatement
    # For each positional parameter: the change's (None) or which held row's, the key,
    # and the conversion.
    slots: tuple[tuple[int | None, str, Callable[[Any], Any] | None], ...]


async def send_together(
    engine: AsyncEngine,
    change: HeldChange,
    held: Sequence[HeldInsert],
    connection: DriverConnection | None = None,
) -> bool | None:
    """True once the change and the rows are stored; ``ChangedMeanwhile`` when the change
    found no row to change (nothing is stored then); None when the connection broke before
    the server answered (the caller sends them the ordinary way, in a transaction that
    checks the change again). On ``connection`` when given (its owner gives it back), else
    on one checked out for this statement."""
    shape = (change.statement, tuple((row.table, tuple(row.values)) for row in held))
    compiled = _compiled(shape, engine.dialect)
    values = [
        _converted(change.values if n is None else held[n].values, key, convert)
        for n, key, convert in compiled.slots
    ]
    own = connection is None
    if connection is None:
        with translate_errors():
            connection = await DriverConnection.checkout(engine)
    try:
        rows = await connection.fetch(
            compiled.statement, dict(zip(compiled.statement.names, values, strict=True))
        )
    except DriverFailed as failed:
        reported = failed.__cause__
        if getattr(reported, "sqlstate", None) is None:
            return None
        raise StorageUnavailable("The database refused a write") from reported
    finally:
        if own:
            await connection.close()
    if rows[0][0] != 1:
        raise ChangedMeanwhile()
    return True


def _converted(values: dict[str, Any], key: str, convert: Callable[[Any], Any] | None) -> Any:
    value = values[key]
    return convert(value) if convert is not None else value


@functools.lru_cache(maxsize=16)
def _compiled(shape: Shape, dialect: Dialect) -> _Compiled:
    change, inserts = shape
    changed = change.returning(literal_column("1").label("one")).cte("changed")
    ctes = [changed]
    for n, (table, keys) in enumerate(inserts):
        row = select(
            *(bindparam(f"r{n}_{key}", type_=table.c[key].type).label(key) for key in keys)
        ).select_from(changed)
        ctes.append(insert(table).from_select(list(keys), row).cte(f"held_{n}"))
    statement = select(func.count()).select_from(changed).add_cte(*ctes[1:])
    compiled = statement.compile(dialect=dialect)
    names = compiled.positiontup
    if names is None:
        raise TypeError(f"not a statement asyncpg can run as compiled: {compiled.string}")
    slots: list[tuple[int | None, str, Callable[[Any], Any] | None]] = []
    for name in names:
        bind = compiled.binds[name]
        convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if name.startswith("r") and "_" in name and name[1:].partition("_")[0].isdigit():
            index, _, key = name[1:].partition("_")
            slots.append((int(index), key, convert))
        else:
            slots.append((None, name, convert))
    names_in_order = tuple(f"p{n}" for n in range(len(slots)))
    return _Compiled(DriverStatement(compiled.string, names_in_order), tuple(slots))
