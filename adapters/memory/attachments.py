"""Attachments' rows in dictionaries, for the fast tests. Changes reach the store at once
and are undone by a rollback (one event loop: no other transaction runs in between)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from adapters.memory.repositories import Staged
from adapters.memory.store import InMemoryStore
from application.ports.attachments import PendingUpload
from domain.attachment import Attachment, UploadAbandoned
from domain.item import Item, ItemNotFound
from domain.pagination import COUNT_CAP, Page, PageRequest


class InMemoryAttachmentRepository:
    def __init__(self, store: InMemoryStore, items: Staged[Item]) -> None:
        self._store = store
        self._items = items
        self._undo: list[Callable[[], object]] = []

    def commit(self) -> None:
        self._undo = []

    def rollback(self) -> None:
        while self._undo:
            self._undo.pop()()

    async def begin_upload(self, upload: PendingUpload, owner_id: uuid.UUID, now: datetime) -> int:
        self._store.uploads[upload.id] = (upload, now)
        self._undo.append(lambda: self._store.uploads.pop(upload.id, None))
        if owner_id not in self._store.usage:
            self._store.usage[owner_id] = 0
        return self._store.usage[owner_id]

    async def add(self, attachment: Attachment, *, quota_bytes: int) -> bool:
        if self._items.get(attachment.item_id) is None:
            raise ItemNotFound()
        if attachment.id not in self._store.uploads:
            raise UploadAbandoned()
        used = self._store.usage.get(attachment.owner_id, 0)
        if used + attachment.size > quota_bytes:
            return False
        pending = self._store.uploads.pop(attachment.id)
        self._store.attachments[attachment.id] = attachment
        self._count(attachment.owner_id, attachment.size)

        def undo() -> None:
            self._store.uploads[attachment.id] = pending
            self._store.attachments.pop(attachment.id, None)

        self._undo.append(undo)
        return True

    async def end_upload(self, upload_id: uuid.UUID) -> bool:
        pending = self._store.uploads.pop(upload_id, None)
        if pending is None:
            return False
        self._undo.append(lambda: self._store.uploads.__setitem__(upload_id, pending))
        return True

    async def get(self, item_id: uuid.UUID, attachment_id: uuid.UUID) -> Attachment | None:
        found = self._store.attachments.get(attachment_id)
        return found if found is not None and found.item_id == item_id else None

    async def delete(self, attachment: Attachment) -> bool:
        if self._store.attachments.pop(attachment.id, None) is None:
            return False
        self._undo.append(lambda: self._store.attachments.__setitem__(attachment.id, attachment))
        self._count(attachment.owner_id, -attachment.size)
        return True

    async def release_item(self, item_id: uuid.UUID, owner_id: uuid.UUID) -> list[str]:
        return self._release(lambda a: a.item_id == item_id)

    async def release_owner(self, owner_id: uuid.UUID) -> list[str]:
        return self._release(lambda a: a.owner_id == owner_id)

    async def abandoned_uploads(self, before: datetime, limit: int) -> list[PendingUpload]:
        old = sorted((at, upload) for upload, at in self._store.uploads.values() if at < before)
        return [upload for _, upload in old[:limit]]

    def _release(self, which: Callable[[Attachment], bool]) -> list[str]:
        gone = [a for a in self._store.attachments.values() if which(a)]
        for attachment in gone:
            del self._store.attachments[attachment.id]
            self._undo.append(self._restorer(attachment))
            self._count(attachment.owner_id, -attachment.size)
        return [a.storage_key for a in gone]

    def _restorer(self, attachment: Attachment) -> Callable[[], None]:
        return lambda: self._store.attachments.__setitem__(attachment.id, attachment)

    def _count(self, owner_id: uuid.UUID, size: int) -> None:
        self._store.usage[owner_id] = self._store.usage.get(owner_id, 0) + size
        self._undo.append(
            lambda: self._store.usage.__setitem__(owner_id, self._store.usage[owner_id] - size)
        )


class InMemoryAttachmentReader:
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    async def get(self, item_id: uuid.UUID, attachment_id: uuid.UUID) -> Attachment | None:
        found = self._store.attachments.get(attachment_id)
        return found if found is not None and found.item_id == item_id else None

    async def list(self, item_id: uuid.UUID, page: PageRequest) -> Page[Attachment]:
        matching = sorted(
            (a for a in self._store.attachments.values() if a.item_id == item_id),
            key=lambda a: (a.created_at, a.id),
            reverse=True,
        )
        counted = min(len(matching), COUNT_CAP + 1) if page.count else None
        if page.after is not None:
            after = (page.after.at, page.after.id)
            matching = [a for a in matching if (a.created_at, a.id) < after]
        window = matching[page.offset : page.offset + page.limit]
        return Page.of_rows(window, counted, page)
