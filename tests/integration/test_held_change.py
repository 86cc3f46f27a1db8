"""A change of an item on PostgreSQL: read outside a transaction, then the compare-and-set
change and its outbox entry sent at the commit as one statement. The entry is stored by
the change's own transaction or not at all, also when changes race."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.held_inserts import WorkConnection
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.changes import ItemChanges
from application.errors import ChangedMeanwhile
from application.use_cases.items.update_item import UpdateItem, UpdateItemCommand
from domain.events import ItemCreated, ItemUpdated, item_event
from domain.item import Item, ItemChanged
from domain.user import User
from tests.integration.conftest import migrated
from tests.support.builders import a_user, an_item
from tests.support.clock import FixedClock
from tests.support.sql import rows, scalar

pytestmark = pytest.mark.postgres

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
XMIN_OF_ITEM = "SELECT xmin::text FROM items WHERE id = :id"
UPDATES_OF = "SELECT xmin::text, payload FROM outbox WHERE kind = 'item_updated'"


@pytest.fixture
async def url(postgres_url: str) -> str:
    await migrated(postgres_url)
    return postgres_url


@pytest.fixture
async def engine(url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(url, pool_size=12)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def item(engine: AsyncEngine) -> Item:
    owner = a_user("owner@example.com", now=T0)
    item = an_item(owner, title="start", now=T0)
    async with SqlAlchemyUnitOfWork(engine) as uow:
        await uow.users.add(owner)
        await uow.items.add(item)
        uow.emit(item_event(ItemCreated, item))
        await uow.commit()
    return item


class Recording:
    """A unit-of-work factory that keeps the connection of each unit of work it makes."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.connections: list[WorkConnection] = []

    def __call__(self) -> SqlAlchemyUnitOfWork:
        connections = self.connections

        class Kept(SqlAlchemyUnitOfWork):
            async def __aenter__(self) -> Kept:
                await super().__aenter__()
                assert self._connection is not None
                connections.append(self._connection)
                return self

        return Kept(self.engine)


def owner_of(item: Item) -> User:
    owner = a_user("owner@example.com", now=T0)
    owner.id = item.owner_id
    return owner


async def test_a_change_and_its_event_are_stored_by_one_statement(
    engine: AsyncEngine, item: Item, url: str
) -> None:
    uows = Recording(engine)
    checkouts: list[object] = []
    event.listen(engine.sync_engine.pool, "checkout", lambda *_: checkouts.append(_))
    changed = await UpdateItem(uows, FixedClock(T0)).execute(
        UpdateItemCommand(owner_of(item), item.id, ItemChanges(title="one trip"), [1])
    )
    assert changed.version == 2
    # Never a statement through SQLAlchemy's connection: no BEGIN, no COMMIT.
    [connection] = uows.connections
    assert not connection._used
    # The read's connection carries the write too: one checkout from the pool.
    assert len(checkouts) == 1
    item_xmin = await scalar(url, XMIN_OF_ITEM, id=item.id)
    [(event_xmin, payload)] = await rows(url, UPDATES_OF)
    assert event_xmin == item_xmin
    assert '"title":"one trip"' in payload
    assert '"version":2' in payload


async def test_a_held_change_that_finds_the_row_changed_stores_no_event(
    engine: AsyncEngine, item: Item, url: str
) -> None:
    stale = an_item(item.owner_id, id=item.id, title="late", now=T0, version=2)
    async with SqlAlchemyUnitOfWork(engine) as first:
        read = await first.items.get(item.id)
        assert read is not None
        read.retitle("first")
        read.touch(T0)
        assert await first.items.update(read, expected_version=1)
        first.emit(item_event(ItemUpdated, read))
        await first.commit()
    with pytest.raises(ChangedMeanwhile):
        async with SqlAlchemyUnitOfWork(engine) as uow:
            assert await uow.items.get(item.id) is not None
            assert await uow.items.update(stale, expected_version=1)
            uow.emit(item_event(ItemUpdated, stale))
            await uow.commit()
    assert await scalar(url, "SELECT title FROM items WHERE id = :id", id=item.id) == "first"
    assert len(await rows(url, UPDATES_OF)) == 1


async def test_racing_conditional_changes_store_one_change_and_exactly_its_event(
    engine: AsyncEngine, item: Item, url: str
) -> None:
    use_case = UpdateItem(Recording(engine), FixedClock(T0))
    owner = owner_of(item)
    for round_ in range(6):
        version = round_ + 1
        outcomes = await asyncio.gather(
            *(
                use_case.execute(
                    UpdateItemCommand(
                        owner, item.id, ItemChanges(title=f"t{round_}.{n}"), [version]
                    )
                )
                for n in range(8)
            ),
            return_exceptions=True,
        )
        won = [o for o in outcomes if isinstance(o, Item)]
        assert len(won) == 1, outcomes
        assert all(isinstance(o, ItemChanged) for o in outcomes if not isinstance(o, Item))
        updates = await rows(url, UPDATES_OF)
        assert len(updates) == version
        item_xmin = await scalar(url, XMIN_OF_ITEM, id=item.id)
        mine = [xmin for xmin, payload in updates if f'"version":{version + 1}' in payload]
        assert mine == [item_xmin]
        assert f'"title":"{won[0].title}"' in dict(updates)[item_xmin]
