"""Reading attachments: their metadata, a page of them, and their bytes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from application.ports import ItemReader
from application.ports.attachments import AttachmentReader
from application.ports.blobs import BlobNotFound, BlobStore
from domain import policies
from domain.attachment import Attachment, AttachmentNotFound
from domain.item import ItemNotFound
from domain.keyset import CursorCodec, scope_of
from domain.pagination import Page, PageRequest
from domain.user import User


async def _visible_item(items: ItemReader, actor: User, item_id: uuid.UUID) -> None:
    item = await items.get(item_id)
    if item is None:
        raise ItemNotFound()
    policies.ensure_can_see_item(actor, item)


@dataclass(frozen=True, slots=True)
class ListAttachmentsCommand:
    """``cursor``: a ``next_cursor`` given before, for this caller and this item."""

    actor: User
    item_id: uuid.UUID
    page: PageRequest
    cursor: str | None = None


class ListAttachments:
    """The attachments of an item you own (or any, as an administrator), newest first. A
    cursor made for another caller or another item is refused."""

    def __init__(
        self, items: ItemReader, attachments: AttachmentReader, cursors: CursorCodec
    ) -> None:
        self._items = items
        self._attachments = attachments
        self._cursors = cursors

    async def execute(self, command: ListAttachmentsCommand) -> Page[Attachment]:
        await _visible_item(self._items, command.actor, command.item_id)
        scope = scope_of("attachments", command.actor.id, command.item_id)
        request = self._cursors.resume(command.page, command.cursor, scope)
        found = await self._attachments.list(command.item_id, request)
        return self._cursors.finish(found, scope)


@dataclass(frozen=True, slots=True)
class GetAttachmentCommand:
    actor: User
    item_id: uuid.UUID
    attachment_id: uuid.UUID


class Download:
    """An attachment's metadata, and its bytes to be opened once the range is decided."""

    def __init__(self, attachment: Attachment, blobs: BlobStore) -> None:
        self.attachment = attachment
        self._blobs = blobs

    async def open(self, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Bytes ``start`` to ``end`` (exclusive); ``AttachmentNotFound`` when they are
        gone (deleted since the row was read)."""
        try:
            return await self._blobs.read(self.attachment.storage_key, start=start, end=end)
        except BlobNotFound:
            raise AttachmentNotFound() from None


class GetAttachment:
    """An attachment of an item you own (or any, as an administrator); for anyone else
    neither exists."""

    def __init__(self, items: ItemReader, attachments: AttachmentReader, blobs: BlobStore) -> None:
        self._items = items
        self._attachments = attachments
        self._blobs = blobs

    async def execute(self, command: GetAttachmentCommand) -> Download:
        await _visible_item(self._items, command.actor, command.item_id)
        found = await self._attachments.get(command.item_id, command.attachment_id)
        if found is None:
            raise AttachmentNotFound()
        return Download(found, self._blobs)
