"""The database's current revision, by one plain query of Alembic's version table."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from adapters.sqlalchemy.errors import is_missing_table, translate_errors
from adapters.sqlalchemy.revisions import CURRENT_REVISION_SQL
from application.errors import MigrationError, StorageUnavailable


async def current_revision(connection: AsyncConnection) -> str | None:
    """None when no migration has run (there is no version table yet)."""
    try:
        result = await connection.execute(text(CURRENT_REVISION_SQL))
    except DBAPIError as exc:
        if is_missing_table(exc):
            return None
        raise
    value = result.scalar_one_or_none()
    return None if value is None else str(value)


def read_current_revision(database_url: str, connect_timeout: float = 5.0) -> str | None:
    """For the command line: one connection, one query, closed."""
    return asyncio.run(_read(database_url, connect_timeout))


async def _read(database_url: str, connect_timeout: float) -> str | None:
    try:
        url = make_url(database_url)
    except ArgumentError as exc:
        raise MigrationError("DATABASE_URL is not a valid database URL") from exc
    connect_args = {} if url.get_backend_name() == "sqlite" else {"timeout": connect_timeout}
    engine = create_async_engine(url, poolclass=NullPool, connect_args=connect_args)
    try:
        with translate_errors():
            async with engine.connect() as connection:
                return await current_revision(connection)
    except StorageUnavailable as exc:
        raise unusable_database(url.render_as_string(hide_password=True), exc) from exc
    finally:
        await engine.dispose()


def unusable_database(where: str, exc: StorageUnavailable) -> StorageUnavailable:
    """The command line's message: where (without the password), and the driver's reason."""
    if exc.__cause__ is None:
        return StorageUnavailable(f"cannot use the database at {where}")
    cause = exc.__cause__.__cause__ or exc.__cause__
    return StorageUnavailable(f"cannot use the database at {where}: {_reason(cause)}")


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]
