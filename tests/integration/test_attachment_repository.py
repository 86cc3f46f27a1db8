"""Attachments' rows and their owner's usage, the same on memory, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.ports import UnitOfWorkFactory
from application.ports.attachments import PendingUpload
from domain.attachment import Attachment, UploadAbandoned, storage_key
from domain.item import Item, ItemNotFound
from tests.integration.conftest import migrated
from tests.support.builders import a_user, an_item

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


async def stored_item(uow_factory: UnitOfWorkFactory, email: str = "o@example.com") -> Item:
    owner = a_user(email, now=T0)
    item = an_item(owner, title="start", description=None, now=T0)
    async with uow_factory() as uow:
        await uow.users.add(owner)
        await uow.items.add(item)
        await uow.commit()
    return item


def an_attachment(item: Item, size: int) -> Attachment:
    attachment_id = uuid.uuid4()
    return Attachment(
        id=attachment_id,
        item_id=item.id,
        owner_id=item.owner_id,
        filename="a.txt",
        content_type="text/plain",
        size=size,
        sha256="0" * 64,
        created_at=T0,
        storage_key=storage_key(item.id, attachment_id),
    )


async def upload(
    uow_factory: UnitOfWorkFactory, item: Item, size: int, quota: int
) -> tuple[Attachment, bool]:
    attachment = an_attachment(item, size)
    async with uow_factory() as uow:
        await uow.attachments.begin_upload(
            PendingUpload(attachment.id, attachment.storage_key), item.owner_id, T0
        )
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.attachments.add(attachment, quota_bytes=quota)
        if stored:
            await uow.commit()
    return attachment, stored


async def used(uow_factory: UnitOfWorkFactory, owner_id: uuid.UUID) -> int:
    async with uow_factory() as uow:
        return await uow.attachments.begin_upload(
            PendingUpload(uuid.uuid4(), "probe"), owner_id, T0
        )  # not committed: only the usage is read


async def test_usage_counts_what_fits_and_refuses_the_rest(
    uow_factory: UnitOfWorkFactory,
) -> None:
    item = await stored_item(uow_factory)
    first, stored = await upload(uow_factory, item, 60, quota=100)
    assert stored
    _, stored = await upload(uow_factory, item, 41, quota=100)
    assert not stored
    _, stored = await upload(uow_factory, item, 40, quota=100)
    assert stored
    assert await used(uow_factory, item.owner_id) == 100
    async with uow_factory() as uow:
        assert await uow.attachments.get(item.id, first.id) == first
        assert await uow.attachments.delete(first)
        assert not await uow.attachments.delete(first)
        await uow.commit()
    assert await used(uow_factory, item.owner_id) == 40


async def test_releasing_an_item_gives_its_keys_and_frees_its_bytes(
    uow_factory: UnitOfWorkFactory,
) -> None:
    item = await stored_item(uow_factory)
    kept = await stored_item(uow_factory, "p@example.com")
    a, _ = await upload(uow_factory, item, 10, quota=100)
    b, _ = await upload(uow_factory, item, 20, quota=100)
    other, _ = await upload(uow_factory, kept, 5, quota=100)
    async with uow_factory() as uow:
        keys = await uow.attachments.release_item(item.id, item.owner_id)
        await uow.items.delete(item.id)
        await uow.commit()
    assert sorted(keys) == sorted([a.storage_key, b.storage_key])
    assert await used(uow_factory, item.owner_id) == 0
    async with uow_factory() as uow:
        assert await uow.attachments.release_owner(kept.owner_id) == [other.storage_key]


async def test_an_upload_to_a_deleted_item_or_abandoned_is_refused(
    uow_factory: UnitOfWorkFactory,
) -> None:
    item = await stored_item(uow_factory)
    attachment = an_attachment(item, 1)
    async with uow_factory() as uow:
        pending = PendingUpload(attachment.id, attachment.storage_key)
        await uow.attachments.begin_upload(pending, item.owner_id, T0)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.attachments.abandoned_uploads(T0 + timedelta(hours=1), 10) == [pending]
        assert await uow.attachments.abandoned_uploads(T0, 10) == []
        await uow.attachments.end_upload(attachment.id)
        await uow.commit()
    async with uow_factory() as uow:
        with pytest.raises(UploadAbandoned):
            await uow.attachments.add(attachment, quota_bytes=100)
    async with uow_factory() as uow:
        await uow.items.delete(item.id)
        await uow.commit()
    with pytest.raises(ItemNotFound):
        await upload(uow_factory, item, 1, quota=100)


@pytest.fixture
async def postgres_uow(postgres_url: str) -> AsyncIterator[UnitOfWorkFactory]:
    await migrated(postgres_url)
    engine = create_engine(postgres_url, pool_size=10)
    try:
        yield lambda: SqlAlchemyUnitOfWork(engine)
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_concurrent_uploads_never_overrun_the_quota_on_postgres(
    postgres_uow: UnitOfWorkFactory,
) -> None:
    for trial in range(5):
        item = await stored_item(postgres_uow, f"race{trial}@example.com")
        results = await asyncio.gather(
            *(upload(postgres_uow, item, 10, quota=30) for _ in range(8))
        )
        assert sum(stored for _, stored in results) == 3
        assert await used(postgres_uow, item.owner_id) == 30
