"""One set of migrations for both databases: up, down, up again, and nothing left unmigrated."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from adapters.sqlalchemy.migrations import AlembicMigrator
from adapters.sqlalchemy.tables import metadata
from application.errors import MigrationError, StorageUnavailable

T = TypeVar("T")
APP_TABLES = {table.name for table in metadata.sorted_tables}


async def on_connection(url: str, work: Callable[[Connection], T]) -> T:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(work)
    finally:
        await engine.dispose()


def schema_diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_upgrade_downgrade_upgrade_matches_the_models(database_url: str) -> None:
    migrator = AlembicMigrator(database_url)
    await asyncio.to_thread(migrator.migrate_to, "head")
    assert await asyncio.to_thread(migrator.current) == migrator.head()
    assert await on_connection(database_url, table_names) >= APP_TABLES
    assert await on_connection(database_url, schema_diff) == []

    await asyncio.to_thread(migrator.migrate_to, "base")
    assert await asyncio.to_thread(migrator.current) is None
    assert not APP_TABLES & await on_connection(database_url, table_names)

    await asyncio.to_thread(migrator.migrate_to, "head")
    assert await on_connection(database_url, schema_diff) == []


async def test_migrate_to_a_revision_goes_down_and_up(database_url: str) -> None:
    migrator = AlembicMigrator(database_url)
    await asyncio.to_thread(migrator.migrate_to, "head")
    await asyncio.to_thread(migrator.migrate_to, "0001")
    assert await asyncio.to_thread(migrator.current) == "0001"
    await asyncio.to_thread(migrator.migrate_to, "head")
    assert await asyncio.to_thread(migrator.current) == migrator.head()


async def test_an_unknown_revision_is_refused_and_changes_nothing(database_url: str) -> None:
    migrator = AlembicMigrator(database_url)
    await asyncio.to_thread(migrator.migrate_to, "head")
    with pytest.raises(MigrationError, match="unknown revision 'nope'"):
        await asyncio.to_thread(migrator.migrate_to, "nope")
    assert await asyncio.to_thread(migrator.current) == migrator.head()


async def test_an_unreachable_database_is_named_without_its_password() -> None:
    migrator = AlembicMigrator("postgresql+asyncpg://keel:s3cret@127.0.0.1:1/keel")
    with pytest.raises(StorageUnavailable) as caught:
        await asyncio.to_thread(migrator.current)
    assert "127.0.0.1:1" in caught.value.message
    assert "s3cret" not in caught.value.message
