"""Each adapter against the real databases: SQLite in a temporary file and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from adapters.memory.store import InMemoryStore
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.migrations import AlembicMigrator
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.ports import UnitOfWorkFactory


async def migrated(url: str) -> None:
    await asyncio.to_thread(AlembicMigrator(url).upgrade, "head")


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def uow_factory(request: pytest.FixtureRequest) -> AsyncIterator[UnitOfWorkFactory]:
    """The same port, served by every adapter: the shared suites run once per backend."""
    if request.param == "memory":
        store = InMemoryStore()
        yield lambda *, read_only=False: InMemoryUnitOfWork(store, read_only=read_only)
        return
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    await migrated(url)
    engine = create_engine(url, pool_size=5)
    try:
        yield lambda *, read_only=False: SqlAlchemyUnitOfWork(engine, read_only=read_only)
    finally:
        await engine.dispose()
