"""Item writes compare and set the version, the same on memory, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest

from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.errors import ChangedMeanwhile
from application.ports import UnitOfWork
from domain.item import Item
from tests.integration.conftest import migrated
from tests.support.builders import a_user, an_item

UowFactory = Callable[[], UnitOfWork]
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def postgres_uow(postgres_url: str) -> AsyncIterator[UowFactory]:
    await migrated(postgres_url)
    engine = create_engine(postgres_url, pool_size=5)
    try:
        yield lambda: SqlAlchemyUnitOfWork(engine)
    finally:
        await engine.dispose()


async def stored_item(uow_factory: UowFactory) -> Item:
    owner = a_user("o@example.com", now=T0)
    item = an_item(owner, title="start", description="first", now=T0)
    async with uow_factory() as uow:
        await uow.users.add(owner)
        await uow.items.add(item)
        await uow.commit()
    return item


def next_version(item: Item, **fields: object) -> Item:
    return dataclasses.replace(
        item, **fields, updated_at=item.updated_at + timedelta(minutes=1), version=item.version + 1
    )


async def read(uow_factory: UowFactory, item: Item) -> Item | None:
    async with uow_factory() as uow:
        return await uow.items.get(item.id)


async def test_an_update_at_the_expected_version_is_stored(uow_factory: UowFactory) -> None:
    item = await stored_item(uow_factory)
    changed = next_version(item, title="second")
    async with uow_factory() as uow:
        assert await uow.items.update(changed, expected_version=1)
        await uow.commit()
    assert await read(uow_factory, item) == changed


async def test_an_update_from_a_stale_read_stores_nothing(uow_factory: UowFactory) -> None:
    item = await stored_item(uow_factory)
    theirs = next_version(item, description="theirs")
    async with uow_factory() as reader:
        stale = await reader.items.get(item.id)
        assert stale is not None
        # Another transaction changes the item after this one read it.
        async with uow_factory() as writer:
            assert await writer.items.update(theirs, expected_version=1)
            await writer.commit()
        if await reader.items.update(next_version(stale, title="mine"), expected_version=1):
            # A store that sends the change with the commit reports it there.
            with pytest.raises(ChangedMeanwhile):
                await reader.commit()
        else:
            await reader.commit()
    assert await read(uow_factory, item) == theirs


async def test_updating_or_deleting_a_missing_item_reports_it(uow_factory: UowFactory) -> None:
    item = await stored_item(uow_factory)
    async with uow_factory() as uow:
        assert await uow.items.delete(item.id)
        assert not await uow.items.delete(item.id)
        assert not await uow.items.update(next_version(item), expected_version=1)
        await uow.commit()
    assert await read(uow_factory, item) is None


async def test_a_conditional_delete_needs_the_expected_version(uow_factory: UowFactory) -> None:
    item = await stored_item(uow_factory)
    async with uow_factory() as uow:
        assert not await uow.items.delete(item.id, expected_version=2)
        await uow.commit()
    assert await read(uow_factory, item) == item
    async with uow_factory() as uow:
        assert await uow.items.delete(item.id, expected_version=1)
        await uow.commit()
    assert await read(uow_factory, item) is None


async def test_reading_for_update_returns_the_item(uow_factory: UowFactory) -> None:
    item = await stored_item(uow_factory)
    async with uow_factory() as uow:
        assert await uow.items.get(item.id, for_update=True) == item
        changed = next_version(item, title="locked")
        assert await uow.items.update(changed, expected_version=1)
        await uow.commit()
    assert await read(uow_factory, item) == changed


@pytest.mark.postgres
async def test_a_row_read_for_update_holds_back_a_concurrent_write(
    postgres_uow: UowFactory,
) -> None:
    item = await stored_item(postgres_uow)
    async with postgres_uow() as holder:
        locked = await holder.items.get(item.id, for_update=True)
        assert locked is not None

        async def other_writer() -> bool:
            async with postgres_uow() as uow:
                current = await uow.items.get(item.id, for_update=True)
                assert current is not None
                done = await uow.items.update(
                    next_version(current, description="theirs"), expected_version=current.version
                )
                await uow.commit()
                return done

        waiting = asyncio.create_task(other_writer())
        await asyncio.sleep(0.3)
        assert not waiting.done()
        assert await holder.items.update(next_version(locked, title="mine"), expected_version=1)
        await holder.commit()
    assert await waiting
    stored = await read(postgres_uow, item)
    assert stored is not None
    assert (stored.title, stored.description, stored.version) == ("mine", "theirs", 3)
