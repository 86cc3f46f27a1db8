"""Each adapter against the real databases: SQLite in a temporary file and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from adapters.memory.readers import InMemoryEventRecorder, InMemoryItemReader, InMemoryUserReader
from adapters.memory.store import InMemoryStore
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.events import SqlAlchemyEventRecorder
from adapters.sqlalchemy.readers import SqlAlchemyItemReader, SqlAlchemyUserReader
from adapters.sqlalchemy.reads import reads_for
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.ports import EventRecorder, ItemReader, UnitOfWorkFactory, UserReader
from tests.support.migrated import migrated


@dataclass(frozen=True)
class Backend:
    """The write side, the read side and the event recorder over one store or database."""

    uow_factory: UnitOfWorkFactory
    users: UserReader
    items: ItemReader
    events: EventRecorder


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    """The same ports, served by every adapter: the shared suites run once per backend."""
    if request.param == "memory":
        store = InMemoryStore()
        yield Backend(
            lambda: InMemoryUnitOfWork(store),
            InMemoryUserReader(store),
            InMemoryItemReader(store),
            InMemoryEventRecorder(store),
        )
        return
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    await migrated(url)
    engine = create_engine(url, pool_size=5)
    reads = reads_for(engine)
    try:
        yield Backend(
            lambda: SqlAlchemyUnitOfWork(engine),
            SqlAlchemyUserReader(reads),
            SqlAlchemyItemReader(reads),
            SqlAlchemyEventRecorder(engine),
        )
    finally:
        await engine.dispose()


@pytest.fixture
def uow_factory(backend: Backend) -> UnitOfWorkFactory:
    return backend.uow_factory


@pytest.fixture
def user_reader(backend: Backend) -> UserReader:
    return backend.users


@pytest.fixture
def item_reader(backend: Backend) -> ItemReader:
    return backend.items


@pytest.fixture
def event_recorder(backend: Backend) -> EventRecorder:
    return backend.events
