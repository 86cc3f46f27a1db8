"""A unit of work that only inserts (a new item and its event) commits on PostgreSQL as one
statement: the item and its outbox entry are stored by one transaction or not at all, and
an owner deleted meanwhile is reported as such."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.held_inserts import HeldInsert
from adapters.sqlalchemy.outbox import outbox_rows
from adapters.sqlalchemy.tables import outbox
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.errors import StorageUnavailable
from application.outbox import encode
from domain.errors import UserNotFound
from domain.events import ItemCreated, item_event
from domain.user import User
from tests.integration.conftest import migrated
from tests.support.builders import a_user, an_item
from tests.support.sql import rows, scalar

pytestmark = pytest.mark.postgres

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
# The transaction that wrote each: the item, and the outbox entries naming it.
XMIN_OF_ITEM = "SELECT xmin::text FROM items WHERE id = :id"
XMIN_OF_EVENTS = "SELECT xmin::text FROM outbox WHERE payload LIKE :pattern"


@pytest.fixture
async def url(postgres_url: str) -> str:
    await migrated(postgres_url)
    return postgres_url


@pytest.fixture
async def engine(url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(url, pool_size=2)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def owner(engine: AsyncEngine) -> User:
    owner = a_user("owner@example.com", now=T0)
    async with SqlAlchemyUnitOfWork(engine) as uow:
        await uow.users.add(owner)
        await uow.commit()
    return owner


async def test_an_item_and_its_event_are_stored_by_one_statement(
    engine: AsyncEngine, owner: User, url: str
) -> None:
    item = an_item(owner, title="one trip", now=T0)
    async with SqlAlchemyUnitOfWork(engine) as uow:
        await uow.items.add(item)
        uow.emit(item_event(ItemCreated, item))
        await uow.commit()
        # Never through SQLAlchemy's connection: no BEGIN, no COMMIT, one statement.
        assert uow._connection is not None
        assert not uow._connection.opened
    item_xmin = await scalar(url, XMIN_OF_ITEM, id=item.id)
    assert await rows(url, XMIN_OF_EVENTS, pattern=f"%{item.id}%") == [(item_xmin,)]


async def test_a_read_after_a_held_insert_sees_it_in_the_same_transaction(
    engine: AsyncEngine, owner: User, url: str
) -> None:
    item = an_item(owner, title="read back", now=T0)
    async with SqlAlchemyUnitOfWork(engine) as uow:
        await uow.items.add(item)
        found = await uow.items.get(item.id)
        uow.emit(item_event(ItemCreated, item))
        await uow.commit()
    assert found is not None
    assert found.title == "read back"
    item_xmin = await scalar(url, XMIN_OF_ITEM, id=item.id)
    assert await rows(url, XMIN_OF_EVENTS, pattern=f"%{item.id}%") == [(item_xmin,)]


async def test_an_outbox_entry_refused_leaves_no_item(
    engine: AsyncEngine, owner: User, url: str
) -> None:
    """All or nothing: the statement's last insert fails (an outbox id already taken), so
    the item inserted by the same statement is not stored either."""
    first = an_item(owner, title="first", now=T0)
    async with SqlAlchemyUnitOfWork(engine) as uow:
        await uow.items.add(first)
        uow.emit(item_event(ItemCreated, first))
        await uow.commit()
    taken = await scalar(url, "SELECT id FROM outbox LIMIT 1")
    second = an_item(owner, title="second", now=T0)
    entry = outbox_rows([encode(item_event(ItemCreated, second))], T0)[0]
    with pytest.raises(StorageUnavailable):
        async with SqlAlchemyUnitOfWork(engine) as uow:
            await uow.items.add(second)
            assert uow._connection is not None
            uow._connection.hold(HeldInsert(outbox, {**entry, "id": uuid.UUID(str(taken))}))
            await uow.commit()
    assert await scalar(url, "SELECT count(*) FROM items WHERE id = :id", id=second.id) == 0
    assert await scalar(url, "SELECT count(*) FROM outbox") == 1


async def test_an_item_whose_owner_is_gone_is_refused_as_such_and_stores_nothing(
    engine: AsyncEngine, url: str
) -> None:
    item = an_item(uuid.uuid4(), title="orphan", now=T0)
    with pytest.raises(UserNotFound):
        async with SqlAlchemyUnitOfWork(engine) as uow:
            await uow.items.add(item)
            uow.emit(item_event(ItemCreated, item))
            await uow.commit()
    assert await scalar(url, "SELECT count(*) FROM items") == 0
    assert await scalar(url, "SELECT count(*) FROM outbox") == 0
    # The pool serves again after the refusal.
    async with SqlAlchemyUnitOfWork(engine) as uow:
        assert await uow.items.get(item.id) is None
