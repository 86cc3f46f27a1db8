"""Attachments' rows: the write side (inside a unit of work) and the read side. The bytes
are the blob store's (``blobs``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.attachment import Attachment
from domain.pagination import Page, PageRequest


@dataclass(frozen=True, slots=True)
class PendingUpload:
    """An upload whose bytes may be in storage with no row yet to say so."""

    id: uuid.UUID
    storage_key: str


class AttachmentRepository(Protocol):
    async def begin_upload(self, upload: PendingUpload, owner_id: uuid.UUID, now: datetime) -> int:
        """Record ``upload`` as begun (committed before any byte is stored, so that a crash
        leaves something for the clean-up to find); returns the bytes the owner uses."""
        ...

    async def add(self, attachment: Attachment, *, quota_bytes: int) -> bool:
        """Store the row, end its pending upload and add its size to the owner's usage in
        one conditional statement (only while the total stays within ``quota_bytes``).
        False, storing nothing, when it does not fit. Raises ``ItemNotFound`` when the item
        is gone and ``UploadAbandoned`` when the clean-up took the upload for dead."""
        ...

    async def end_upload(self, upload_id: uuid.UUID) -> bool:
        """Forget a pending upload (its bytes are to be removed); False when it was not
        pending (finished, or ended by someone else). Holds the row until the end of the
        transaction, so a finishing upload waits and then finds it gone."""
        ...

    async def get(self, item_id: uuid.UUID, attachment_id: uuid.UUID) -> Attachment | None: ...

    async def delete(self, attachment: Attachment) -> bool:
        """Delete the row and take its size off the owner's usage; False when it was gone."""
        ...

    async def release_item(self, item_id: uuid.UUID, owner_id: uuid.UUID) -> list[str]:
        """Delete the item's attachments (uploads finishing meanwhile wait, then find the
        item gone) and take their sizes off the owner's usage; their storage keys."""
        ...

    async def release_owner(self, owner_id: uuid.UUID) -> list[str]:
        """The same for every item of ``owner_id``, and their usage."""
        ...

    async def abandoned_uploads(self, before: datetime, limit: int) -> list[PendingUpload]:
        """Uploads begun before ``before`` that never finished, oldest first."""
        ...


class AttachmentReader(Protocol):
    async def get(self, item_id: uuid.UUID, attachment_id: uuid.UUID) -> Attachment | None: ...

    async def list(self, item_id: uuid.UUID, page: PageRequest) -> Page[Attachment]:
        """Newest first (ties by id)."""
        ...
