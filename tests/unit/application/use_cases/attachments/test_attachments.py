"""Attachments over the memory adapters and a local blob store: what is stored, what is
refused before anything is stored, and what a deletion leaves for its job."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.memory.store import InMemoryStore
from application.outbox import decode
from application.ports.attachments import PendingUpload
from application.use_cases.accounts.delete_user import DeleteUserCommand
from application.use_cases.attachments.delete_attachment import DeleteAttachmentCommand
from application.use_cases.attachments.read_attachments import (
    GetAttachmentCommand,
    ListAttachmentsCommand,
)
from application.use_cases.attachments.upload_attachment import UploadAttachmentCommand
from application.use_cases.items.create_item import CreateItemCommand
from application.use_cases.items.delete_item import DeleteItemCommand
from domain.attachment import (
    Attachment,
    AttachmentNotFound,
    AttachmentTooLarge,
    QuotaExceeded,
    UnsupportedMediaType,
)
from domain.events import AttachmentsRemoved
from domain.item import Item, ItemNotFound
from domain.pagination import PageRequest
from domain.user import User
from entrypoints.container import Container
from entrypoints.settings import Settings
from tests.support.accounts import account
from tests.support.clock import FixedClock

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


async def chunks(data: bytes, size: int = 64) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def an_item(container: Container, owner: User) -> Item:
    return await container.create_item().execute(CreateItemCommand(actor=owner, title="t"))


async def upload(
    container: Container, actor: User, item: Item, data: bytes, name: str = "f.png"
) -> Attachment:
    command = UploadAttachmentCommand(
        actor=actor, item_id=item.id, filename=name, chunks=chunks(data)
    )
    return await container.upload_attachment().execute(command)


def stored_files(tmp_path: Path) -> list[Path]:
    return [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()]


def removals(store: InMemoryStore) -> list[str]:
    keys: list[str] = []
    for entry in store.outbox.values():
        if entry.kind == "attachments_removed":
            event = decode(entry.kind, entry.payload)
            assert isinstance(event, AttachmentsRemoved)
            keys.extend(event.keys)
    return keys


async def test_an_upload_is_stored_with_its_sniffed_type_size_and_hash(
    container: Container, store: InMemoryStore, tmp_path: Path
) -> None:
    ada = await account(container, "ada@example.com")
    item = await an_item(container, ada)
    attachment = await upload(container, ada, item, PNG, "../../etc/passwd")
    assert attachment.filename == "passwd"
    assert attachment.content_type == "image/png"
    assert attachment.size == len(PNG)
    assert attachment.sha256 == hashlib.sha256(PNG).hexdigest()
    assert store.usage[ada.id] == len(PNG)
    assert store.uploads == {}
    download = await container.get_attachment().execute(
        GetAttachmentCommand(actor=ada, item_id=item.id, attachment_id=attachment.id)
    )
    assert b"".join([c async for c in await download.open(8, 12)]) == PNG[8:12]
    assert [p.name for p in stored_files(tmp_path)] == [attachment.id.hex]


@pytest.mark.parametrize(
    "data",
    [b"<html><script>alert(1)</script>", b"\x00\x01binary", b"text, then \xff invalid"],
)
async def test_content_of_no_accepted_type_is_refused_and_nothing_kept(
    container: Container, store: InMemoryStore, tmp_path: Path, data: bytes
) -> None:
    ada = await account(container, "ada@example.com")
    item = await an_item(container, ada)
    with pytest.raises(UnsupportedMediaType):
        await upload(container, ada, item, data)
    assert stored_files(tmp_path) == []
    assert store.attachments == {}
    assert store.uploads == {}
    assert store.usage[ada.id] == 0


async def test_text_that_turns_bad_after_the_sniffing_window_is_refused(
    container: Container, tmp_path: Path
) -> None:
    ada = await account(container, "ada@example.com")
    item = await an_item(container, ada)
    with pytest.raises(UnsupportedMediaType):
        await upload(container, ada, item, b"a" * 5000 + b"\x00")
    assert stored_files(tmp_path) == []


async def test_too_large_and_over_quota_stop_the_stream_early(
    container: Container, settings: Settings, store: InMemoryStore, tmp_path: Path
) -> None:
    ada = await account(container, "ada@example.com")
    item = await an_item(container, ada)
    limits = container.attachment_limits()
    read = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal read
        yield PNG
        while True:
            read += 1
            yield b"\x00" * 1024

    too_large = UploadAttachmentCommand(actor=ada, item_id=item.id, filename="x", chunks=endless())
    with pytest.raises(AttachmentTooLarge):
        await container.upload_attachment().execute(too_large)
    assert read <= limits.max_bytes // 1024 + 1
    assert stored_files(tmp_path) == []

    container.upload_attachment.reset()
    container.attachment_limits.override(
        type(limits)(max_bytes=1000, quota_bytes=250, types=limits.types)
    )
    await upload(container, ada, item, PNG)  # 108 bytes
    await upload(container, ada, item, PNG)  # 216
    with pytest.raises(QuotaExceeded):
        await upload(container, ada, item, PNG)
    assert store.usage[ada.id] == 2 * len(PNG)
    assert len(stored_files(tmp_path)) == 2


async def test_others_do_not_see_an_item_attachments_admins_do(container: Container) -> None:
    ada = await account(container, "ada@example.com")
    bob = await account(container, "bob@example.com")
    root = await account(container, "root@example.com", admin=True)
    item = await an_item(container, ada)
    attachment = await upload(container, root, item, b"hello")
    assert attachment.owner_id == ada.id  # counted against the item's owner
    with pytest.raises(ItemNotFound):
        await upload(container, bob, item, b"hello")
    with pytest.raises(ItemNotFound):
        await container.list_attachments().execute(
            ListAttachmentsCommand(actor=bob, item_id=item.id, page=PageRequest())
        )
    page = await container.list_attachments().execute(
        ListAttachmentsCommand(actor=ada, item_id=item.id, page=PageRequest())
    )
    assert [a.id for a in page.items] == [attachment.id]
    with pytest.raises(AttachmentNotFound):
        await container.get_attachment().execute(
            GetAttachmentCommand(actor=ada, item_id=item.id, attachment_id=uuid.uuid4())
        )


async def test_deletions_record_the_keys_for_the_job_and_free_the_quota(
    container: Container, store: InMemoryStore
) -> None:
    ada = await account(container, "ada@example.com", admin=True)
    bob = await account(container, "bob@example.com")
    one = await an_item(container, ada)
    two = await an_item(container, ada)
    first = await upload(container, ada, one, b"one")
    second = await upload(container, ada, one, b"two")
    third = await upload(container, ada, two, b"three")
    bobs = await upload(container, bob, await an_item(container, bob), b"bob's")

    await container.delete_attachment().execute(
        DeleteAttachmentCommand(actor=ada, item_id=one.id, attachment_id=first.id)
    )
    assert removals(store) == [first.storage_key]
    assert store.usage[ada.id] == len(b"twothree")
    await container.delete_item().execute(DeleteItemCommand(actor=ada, item_id=one.id))
    assert removals(store) == [first.storage_key, second.storage_key]
    await container.delete_user().execute(DeleteUserCommand(actor=ada, user_id=bob.id))
    assert removals(store)[2:] == [bobs.storage_key]
    assert set(store.attachments) == {third.id}

    # The job removes the bytes, and running it again is harmless.
    for key in removals(store):
        for _ in range(2):
            await container.remove_blobs()(AttachmentsRemoved((key,)))
    download = await container.get_attachment().execute(
        GetAttachmentCommand(actor=ada, item_id=two.id, attachment_id=third.id)
    )
    assert b"".join([c async for c in await download.open()]) == b"three"


async def test_the_clean_up_removes_uploads_a_crash_left_behind(
    container: Container, store: InMemoryStore, clock: FixedClock, tmp_path: Path
) -> None:
    ada = await account(container, "ada@example.com")
    item = await an_item(container, ada)
    blobs = container.blob_store()
    crashed = PendingUpload(uuid.uuid4(), f"attachments/{item.id.hex}/{uuid.uuid4().hex}")
    async with container.unit_of_work() as uow:
        await uow.attachments.begin_upload(crashed, ada.id, clock.now())
        await uow.commit()
    await blobs.write(crashed.storage_key, chunks(b"left behind"))
    kept = await upload(container, ada, item, b"kept")

    removed = await container.remove_abandoned_uploads().execute()
    assert removed.uploads == 0  # too young: it may still be under way
    clock.advance(timedelta(hours=1, seconds=1))
    removed = await container.remove_abandoned_uploads().execute()
    assert removed.uploads == 1
    assert store.uploads == {}
    assert [p.name for p in stored_files(tmp_path)] == [kept.id.hex]
