"""The bytes whose rows are gone, removed from storage: the job of ``AttachmentsRemoved``,
and the clean-up of uploads a crash left behind."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from application.ports import Clock, UnitOfWorkFactory
from application.ports.blobs import BlobStore
from domain.events import AttachmentsRemoved

logger = logging.getLogger("keel.jobs")

# An upload not finished after this long is taken for one a crash interrupted.
ABANDONED_AFTER = timedelta(hours=1)
BATCH = 100


class RemoveBlobs:
    """Delete each key; deleting what is already gone is no error, so a retried job is
    safe."""

    def __init__(self, blobs: BlobStore) -> None:
        self._blobs = blobs

    async def __call__(self, event: AttachmentsRemoved) -> None:
        for key in event.keys:
            await self._blobs.delete(key)


@dataclass(frozen=True, slots=True)
class Removed:
    uploads: int
    leftovers: int


class RemoveAbandonedUploads:
    """Uploads begun over an hour ago and never finished (the server died mid-upload):
    their record is ended and their bytes removed in one transaction, so an upload that
    finishes at that moment either wins (and keeps its bytes) or finds itself abandoned.
    Then the store's own remains of unfinished writes."""

    def __init__(self, uow_factory: UnitOfWorkFactory, blobs: BlobStore, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._blobs = blobs
        self._clock = clock

    async def execute(self) -> Removed:
        before = self._clock.now() - ABANDONED_AFTER
        removed = 0
        while True:
            async with self._uow_factory() as uow:
                batch = await uow.attachments.abandoned_uploads(before, BATCH)
                for upload in batch:
                    if await uow.attachments.end_upload(upload.id):
                        await self._blobs.delete(upload.storage_key)
                        removed += 1
                await uow.commit()
            if len(batch) < BATCH:
                break
        leftovers = await self._blobs.remove_leftovers(older_than=ABANDONED_AFTER)
        if removed or leftovers:
            logger.info(
                "abandoned uploads removed", extra={"uploads": removed, "leftovers": leftovers}
            )
        return Removed(uploads=removed, leftovers=leftovers)
