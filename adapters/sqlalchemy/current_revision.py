"""The database's current revision, for ``keel migrate --status``, which must answer at
once: on SQLite (the default database) read with the standard library's driver, without
creating the file when it is not there; on PostgreSQL with asyncpg alone (a tenth of a
second to import, where SQLAlchemy's asynchronous stack takes four); anything else, and a
URL with options only SQLAlchemy reads, through SQLAlchemy."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from adapters.sqlalchemy.revisions import CURRENT_REVISION_SQL
from application.errors import StorageUnavailable

_SQLITE_SCHEMES = ("sqlite://", "sqlite+aiosqlite://", "sqlite+pysqlite://")
_ASYNCPG_SCHEME = "postgresql+asyncpg"
CONNECT_TIMEOUT_SECONDS = 5.0


def read_current_revision(database_url: str) -> str | None:
    """None when no migration has run."""
    if plain_asyncpg_url(database_url):
        return asyncio.run(_read_postgres(database_url))
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


def plain_asyncpg_url(database_url: str) -> bool:
    """A ``postgresql+asyncpg://`` URL with no options: asyncpg takes it as it is."""
    try:
        parts = urlsplit(database_url)
        parts.port  # noqa: B018  (raises on a port that is no number)
    except ValueError:
        return False
    return parts.scheme == _ASYNCPG_SCHEME and not parts.query and not parts.fragment


def without_password(database_url: str) -> str:
    parts = urlsplit(database_url)
    if parts.password is None:
        return database_url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


async def _read_postgres(database_url: str) -> str | None:
    # The one other module that talks to asyncpg (importlinter.ini says why).
    import asyncpg  # type: ignore[import-untyped]  # no annotations of its own

    where = without_password(database_url)
    dsn = database_url.replace(_ASYNCPG_SCHEME, "postgresql", 1)
    try:
        connection = await asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT_SECONDS)
        try:
            value = await connection.fetchval(CURRENT_REVISION_SQL)
        finally:
            await connection.close()
    except asyncpg.UndefinedTableError:
        return None
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise StorageUnavailable(f"cannot use the database at {where}: {_reason(exc)}") from exc
    return None if value is None else str(value)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]
