from __future__ import annotations

import uuid
from dataclasses import dataclass

from application.ports import UnitOfWorkFactory
from domain import policies
from domain.attachment import AttachmentNotFound
from domain.events import AttachmentsRemoved
from domain.item import ItemNotFound
from domain.user import User


@dataclass(frozen=True, slots=True)
class DeleteAttachmentCommand:
    actor: User
    item_id: uuid.UUID
    attachment_id: uuid.UUID


class DeleteAttachment:
    """Delete an attachment of an item you own (or any, as an administrator): the row goes
    and the owner's usage shrinks in one transaction, which also records the job that
    removes the bytes from storage."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def execute(self, command: DeleteAttachmentCommand) -> None:
        async with self._uow_factory() as uow:
            item = await uow.items.get(command.item_id)
            if item is None:
                raise ItemNotFound()
            policies.ensure_can_change_item(command.actor, item)
            found = await uow.attachments.get(command.item_id, command.attachment_id)
            if found is None or not await uow.attachments.delete(found):
                raise AttachmentNotFound()
            uow.emit(AttachmentsRemoved((found.storage_key,)))
            await uow.commit()
