"""Attachments' rows in SQL: the repository (write side, in a unit of work) and the reader.
Usage changes are single conditional statements, so concurrent uploads cannot both take
the last of a quota."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from adapters.sqlalchemy.connection import Connection
from adapters.sqlalchemy.errors import translate_errors
from adapters.sqlalchemy.queries import PageQuery
from adapters.sqlalchemy.readers import page_rows
from adapters.sqlalchemy.reads import Reads
from adapters.sqlalchemy.rows import plain_uuid
from adapters.sqlalchemy.tables import attachment_uploads, attachment_usage, attachments, items
from application.ports.attachments import PendingUpload
from domain.attachment import Attachment, UploadAbandoned
from domain.item import ItemNotFound
from domain.pagination import Page, PageRequest

ATTACHMENT = select(attachments).where(
    attachments.c.id == bindparam("id"), attachments.c.item_id == bindparam("item_id")
)
ATTACHMENT_PAGE = PageQuery(attachments, [attachments.c.item_id == bindparam("item_id")])
USED = select(attachment_usage.c.used_bytes).where(
    attachment_usage.c.user_id == bindparam("user_id")
)


def to_attachment(row: Sequence[Any]) -> Attachment:
    return Attachment(
        id=plain_uuid(row[0]),
        item_id=plain_uuid(row[1]),
        owner_id=plain_uuid(row[2]),
        filename=row[3],
        content_type=row[4],
        size=int(row[5]),
        sha256=row[6],
        storage_key=row[7],
        created_at=row[8],
    )


class SqlAlchemyAttachmentRepository:
    def __init__(self, connection: Connection, dialect: str) -> None:
        self._connection = connection
        self._dialect = dialect

    async def begin_upload(self, upload: PendingUpload, owner_id: uuid.UUID, now: datetime) -> int:
        values = {"id": upload.id, "storage_key": upload.storage_key, "started_at": now}
        make = postgresql_insert if self._dialect == "postgresql" else sqlite_insert
        # The usage row exists from the first upload on: increments need a row to condition.
        ensure = make(attachment_usage).values(user_id=owner_id, used_bytes=0)
        with translate_errors(missing_reference=ItemNotFound):
            await self._connection.execute(insert(attachment_uploads).values(**values))
            await self._connection.execute(ensure.on_conflict_do_nothing())
            result = await self._connection.execute(USED, {"user_id": owner_id})
        return int(result.scalar_one())

    async def add(self, attachment: Attachment, *, quota_bytes: int) -> bool:
        row = {
            "id": attachment.id,
            "item_id": attachment.item_id,
            "owner_id": attachment.owner_id,
            "filename": attachment.filename,
            "content_type": attachment.content_type,
            "size": attachment.size,
            "sha256": attachment.sha256,
            "storage_key": attachment.storage_key,
            "created_at": attachment.created_at,
        }
        # Inserting first holds the item (a key-share lock on PostgreSQL): a deletion of
        # the item waits for this transaction, then releases this attachment with the rest.
        with translate_errors(missing_reference=ItemNotFound):
            await self._connection.execute(insert(attachments).values(**row))
        with translate_errors():
            ended = await self._connection.execute(
                delete(attachment_uploads).where(attachment_uploads.c.id == attachment.id)
            )
            if ended.rowcount != 1:
                raise UploadAbandoned()
            used = attachment_usage.c.used_bytes
            counted = await self._connection.execute(
                update(attachment_usage)
                .where(
                    attachment_usage.c.user_id == attachment.owner_id,
                    used + attachment.size <= quota_bytes,
                )
                .values(used_bytes=used + attachment.size)
            )
        return bool(counted.rowcount == 1)

    async def end_upload(self, upload_id: uuid.UUID) -> bool:
        with translate_errors():
            ended = await self._connection.execute(
                delete(attachment_uploads).where(attachment_uploads.c.id == upload_id)
            )
        return bool(ended.rowcount == 1)

    async def get(self, item_id: uuid.UUID, attachment_id: uuid.UUID) -> Attachment | None:
        with translate_errors():
            result = await self._connection.execute(
                ATTACHMENT, {"id": attachment_id, "item_id": item_id}
            )
        row = result.first()
        return to_attachment(row) if row is not None else None

    async def delete(self, attachment: Attachment) -> bool:
        with translate_errors():
            deleted = await self._connection.execute(
                delete(attachments).where(attachments.c.id == attachment.id)
            )
            if deleted.rowcount != 1:
                return False
            await self._uncount(attachment.owner_id, attachment.size)
        return True

    async def release_item(self, item_id: uuid.UUID, owner_id: uuid.UUID) -> list[str]:
        # FOR UPDATE (not NO KEY): uploads inserting a row that references the item wait
        # until this transaction ends, so none slips in between the read and the deletion.
        # SQLite has no row locks; its one writer at a time does the same.
        lock = select(items.c.id).where(items.c.id == item_id).with_for_update()
        gone = (
            delete(attachments)
            .where(attachments.c.item_id == item_id)
            .returning(attachments.c.storage_key, attachments.c.size)
        )
        return await self._release(lock, gone, owner_id)

    async def release_owner(self, owner_id: uuid.UUID) -> list[str]:
        lock = select(items.c.id).where(items.c.owner_id == owner_id).with_for_update()
        gone = (
            delete(attachments)
            .where(attachments.c.owner_id == owner_id)
            .returning(attachments.c.storage_key, attachments.c.size)
        )
        return await self._release(lock, gone, owner_id)

    async def abandoned_uploads(self, before: datetime, limit: int) -> list[PendingUpload]:
        query = (
            select(attachment_uploads.c.id, attachment_uploads.c.storage_key)
            .where(attachment_uploads.c.started_at < before)
            .order_by(attachment_uploads.c.started_at)
            .limit(limit)
        )
        with translate_errors():
            rows: Sequence[Any] = (await self._connection.execute(query)).all()
        return [PendingUpload(plain_uuid(row[0]), row[1]) for row in rows]

    async def _release(self, lock: Any, gone: Any, owner_id: uuid.UUID) -> list[str]:
        with translate_errors():
            if self._dialect == "postgresql":
                await self._connection.execute(lock)
            rows: Sequence[Any] = (await self._connection.execute(gone)).all()
            if rows:
                await self._uncount(owner_id, sum(int(row[1]) for row in rows))
        return [row[0] for row in rows]

    async def _uncount(self, owner_id: uuid.UUID, size: int) -> None:
        used = attachment_usage.c.used_bytes
        await self._connection.execute(
            update(attachment_usage)
            .where(attachment_usage.c.user_id == owner_id)
            .values(used_bytes=used - size)
        )


class SqlAlchemyAttachmentReader:
    def __init__(self, reads: Reads) -> None:
        self._reads = reads

    async def get(self, item_id: uuid.UUID, attachment_id: uuid.UUID) -> Attachment | None:
        rows = await self._reads.rows(ATTACHMENT, {"id": attachment_id, "item_id": item_id})
        return to_attachment(rows[0]) if rows else None

    async def list(self, item_id: uuid.UUID, page: PageRequest) -> Page[Attachment]:
        rows, counted = await page_rows(self._reads, ATTACHMENT_PAGE, {"item_id": item_id}, page)
        return Page.of_rows([to_attachment(row) for row in rows], counted, page)
