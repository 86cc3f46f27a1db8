from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterable, Collection
from dataclasses import dataclass

from application.ports import Clock, ItemReader, UnitOfWorkFactory
from application.ports.attachments import PendingUpload
from application.ports.blobs import BlobStore
from application.use_cases.attachments.intake import Intake
from domain import policies
from domain.attachment import Attachment, QuotaExceeded, storage_key
from domain.filenames import clean_filename
from domain.item import ItemNotFound
from domain.user import User

logger = logging.getLogger("keel.attachments")


@dataclass(frozen=True, slots=True)
class AttachmentLimits:
    max_bytes: int
    quota_bytes: int
    types: Collection[str]


@dataclass(frozen=True, slots=True)
class UploadAttachmentCommand:
    actor: User
    item_id: uuid.UUID
    filename: str | None
    chunks: AsyncIterable[bytes]


class UploadAttachment:
    """Attach a file to an item you own (or any, as an administrator). The type is sniffed
    from the first bytes and must be an accepted one; the size may not pass the largest
    attachment nor what is left of the item owner's quota, and the upload stops as soon as
    it does. The bytes are stored before the row commits; an upload begun is recorded
    first, so that what a crash leaves behind is found and removed by the clean-up."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        items: ItemReader,
        blobs: BlobStore,
        clock: Clock,
        limits: AttachmentLimits,
    ) -> None:
        self._uow_factory = uow_factory
        self._items = items
        self._blobs = blobs
        self._clock = clock
        self._limits = limits

    async def execute(self, command: UploadAttachmentCommand) -> Attachment:
        item = await self._items.get(command.item_id)
        if item is None:
            raise ItemNotFound()
        policies.ensure_can_change_item(command.actor, item)
        filename = clean_filename(command.filename)
        attachment_id = uuid.uuid4()
        pending = PendingUpload(attachment_id, storage_key(item.id, attachment_id))
        async with self._uow_factory() as uow:
            used = await uow.attachments.begin_upload(pending, item.owner_id, self._clock.now())
            await uow.commit()
        limits = self._limits
        intake = Intake.for_upload(
            command.chunks,
            max_bytes=limits.max_bytes,
            quota_bytes=limits.quota_bytes,
            used_bytes=used,
            types=limits.types,
        )
        try:
            await intake.sniff()
            await self._blobs.write(pending.storage_key, intake.rest())
            attachment = Attachment(
                id=attachment_id,
                item_id=item.id,
                owner_id=item.owner_id,
                filename=filename,
                content_type=intake.content_type,
                size=intake.size,
                sha256=intake.sha256,
                created_at=self._clock.now(),
                storage_key=pending.storage_key,
            )
            async with self._uow_factory() as uow:
                if not await uow.attachments.add(attachment, quota_bytes=limits.quota_bytes):
                    raise QuotaExceeded(limits.quota_bytes)
                await uow.commit()
        except BaseException:
            # Shielded: a request cancelled by its client still cleans up after itself.
            await asyncio.shield(self._abandon(pending))
            raise
        return attachment

    async def _abandon(self, pending: PendingUpload) -> None:
        """Remove the bytes of a failed upload, then its record; should either fail, the
        record stays and the clean-up removes both later."""
        try:
            await self._blobs.delete(pending.storage_key)
            async with self._uow_factory() as uow:
                await uow.attachments.end_upload(pending.id)
                await uow.commit()
        except Exception as exc:  # the original error is the one to answer
            logger.warning(
                "failed upload left to the clean-up",
                extra={"key": pending.storage_key, "error": repr(exc)},
            )
