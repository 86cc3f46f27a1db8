"""Driver exceptions turned into the port-level errors the core understands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from application.errors import StorageUnavailable
from domain.errors import EmailAlreadyRegistered

SCHEMA_MISSING = "The database schema is missing or out of date: run `keel migrate`"
_UNDEFINED_TABLE = "42P01"


@contextmanager
def translate_errors() -> Iterator[None]:
    """Wrap every statement: a unique email is a conflict, anything else from the driver
    (refused connection, timeout, missing schema) means the database cannot serve us."""
    try:
        yield
    except IntegrityError as exc:
        if "email" in str(exc.orig).lower():
            raise EmailAlreadyRegistered() from exc
        raise StorageUnavailable("The database refused a write") from exc
    except DBAPIError as exc:
        if _is_missing_table(exc):
            raise StorageUnavailable(SCHEMA_MISSING) from exc
        raise StorageUnavailable() from exc
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        raise StorageUnavailable() from exc


def _is_missing_table(exc: DBAPIError) -> bool:
    sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return sqlstate == _UNDEFINED_TABLE or "no such table" in str(exc.orig)
