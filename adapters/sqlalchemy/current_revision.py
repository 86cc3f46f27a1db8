"""The database's current revision, for ``keel migrate --status``: on SQLite (the default
database) read with the standard library's driver, which costs nothing to import, and
without creating the file when it is not there; elsewhere through SQLAlchemy."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from adapters.sqlalchemy.revisions import CURRENT_REVISION_SQL
from application.errors import StorageUnavailable

_SQLITE_SCHEMES = ("sqlite://", "sqlite+aiosqlite://", "sqlite+pysqlite://")


def read_current_revision(database_url: str) -> str | None:
    """None when no migration has run."""
    database = sqlite_database(database_url)
    if database is None:
        from adapters.sqlalchemy.schema_status import read_current_revision as over_engine

        return over_engine(database_url)
    if database in ("", ":memory:"):
        return None  # a new, empty database every time
    return _read_sqlite(Path(database), database_url)


def sqlite_database(database_url: str) -> str | None:
    """The file of a plain SQLite URL; None for anything else (other databases, and URLs
    with options or escapes, which SQLAlchemy reads)."""
    for scheme in _SQLITE_SCHEMES:
        if database_url.startswith(scheme):
            rest = database_url.removeprefix(scheme)
            if rest and not rest.startswith("/"):
                return None  # a host: not a URL SQLite takes
            database = rest.removeprefix("/")
            return None if any(c in database for c in "?%#") else database
    return None


def _read_sqlite(path: Path, database_url: str) -> str | None:
    if not path.exists():
        return None  # not created yet: ``keel migrate`` creates it
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            row = db.execute(CURRENT_REVISION_SQL).fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return None
        raise StorageUnavailable(f"cannot use the database at {database_url}: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        raise StorageUnavailable(f"cannot use the database at {database_url}: {exc}") from exc
    return None if row is None else str(row[0])
