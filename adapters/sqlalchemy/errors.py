"""Driver exceptions turned into the port-level errors the core understands."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from application.errors import StorageUnavailable
from domain.errors import EmailAlreadyRegistered

SCHEMA_MISSING = "The database schema is missing or out of date: run `keel migrate`"
STATEMENT_TIMED_OUT = "The database did not answer in time"
POOL_EXHAUSTED = "No database connection was free in time"
_UNDEFINED_TABLE = "42P01"
_QUERY_CANCELED = "57014"  # statement_timeout (or a cancel request) stopped the statement
_FOREIGN_KEY_VIOLATION = "23503"


@contextmanager
def translate_errors(
    missing_reference: Callable[[], Exception] | None = None,
) -> Iterator[None]:
    """Wrap every statement: a unique email is a conflict, anything else from the driver
    (refused or dropped connection, statement or pool timeout, missing schema) means the
    database cannot serve us. ``missing_reference`` makes the error raised instead when a
    write names a row that is not there (a foreign key), such as an item whose owner was
    deleted meanwhile."""
    try:
        yield
    except IntegrityError as exc:
        if missing_reference is not None and _is_foreign_key_violation(exc):
            raise missing_reference() from exc
        if "email" in str(exc.orig).lower():
            raise EmailAlreadyRegistered() from exc
        raise StorageUnavailable("The database refused a write") from exc
    except DBAPIError as exc:
        if is_missing_table(exc):
            raise StorageUnavailable(SCHEMA_MISSING) from exc
        if _sqlstate(exc) == _QUERY_CANCELED:
            raise StorageUnavailable(STATEMENT_TIMED_OUT) from exc
        raise StorageUnavailable() from exc
    except PoolTimeout as exc:
        raise StorageUnavailable(POOL_EXHAUSTED) from exc
    except TimeoutError as exc:  # the driver's own limit (asyncpg's command_timeout)
        raise StorageUnavailable(STATEMENT_TIMED_OUT) from exc
    except (SQLAlchemyError, OSError) as exc:
        raise StorageUnavailable() from exc


def raise_if_timed_out(error: Exception) -> None:
    """For errors straight from the driver: the statement ran out of time (the server's
    ``statement_timeout`` or the driver's own limit)."""
    if isinstance(error, TimeoutError) or _driver_sqlstate(error) == _QUERY_CANCELED:
        raise StorageUnavailable(STATEMENT_TIMED_OUT) from error


def _sqlstate(exc: DBAPIError) -> str | None:
    return _driver_sqlstate(exc.orig)


def _driver_sqlstate(error: BaseException | None) -> str | None:
    sqlstate = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    return str(sqlstate) if sqlstate else None


def foreign_key_violated(error: BaseException | None) -> bool:
    """For errors straight from the driver: a write named a row that is not there."""
    return _driver_sqlstate(error) == _FOREIGN_KEY_VIOLATION


def _is_foreign_key_violation(exc: DBAPIError) -> bool:
    return _sqlstate(exc) == _FOREIGN_KEY_VIOLATION or "FOREIGN KEY constraint failed" in str(
        exc.orig
    )


def is_missing_table(exc: DBAPIError) -> bool:
    return _sqlstate(exc) == _UNDEFINED_TABLE or "no such table" in str(exc.orig)


# What an operator can act on, from the driver's error: the SQLSTATE classes of a refused
# login and a missing database, and the socket's own errors.
_CAUSES_BY_SQLSTATE = {
    "28P01": "authentication failed",
    "28000": "authentication failed",
    "3D000": "database does not exist",
    _QUERY_CANCELED: "timed out",
    "57P03": "the database is starting up",
}


def failure_cause(exc: BaseException) -> str:
    """A few words for why the database could not be used, never its address or password:
    the first recognised error down ``exc``'s chain of causes."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        error = pending.pop(0)
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        cause = _cause_of(error)
        if cause is not None:
            return cause
        pending += [getattr(error, "orig", None), error.__cause__, error.__context__]
    return "unavailable"


def _cause_of(error: BaseException) -> str | None:
    sqlstate = _driver_sqlstate(error)
    if sqlstate in _CAUSES_BY_SQLSTATE:
        return _CAUSES_BY_SQLSTATE[sqlstate]
    if isinstance(error, PoolTimeout):
        return "no connection free in time"
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, socket.gaierror):
        return "host not found"
    if isinstance(error, ConnectionError):
        return "connection lost"
    if "unable to open database file" in str(error):  # SQLite: no such directory, or no access
        return "cannot open the database file"
    return None
