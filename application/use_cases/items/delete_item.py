from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from application.ports import UnitOfWorkFactory
from application.retries import ATTEMPTS
from domain import policies
from domain.item import ItemChanged, ItemNotFound
from domain.user import User


@dataclass(frozen=True, slots=True)
class DeleteItemCommand:
    actor: User
    item_id: uuid.UUID
    expected_versions: Collection[int] | None = None


class DeleteItem:
    """Delete an item you own (or any, as an administrator); with ``expected_versions``
    (the client's ``If-Match``) only while it is at one of those versions."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def execute(self, command: DeleteItemCommand) -> None:
        actor, item_id, expected_versions = (
            command.actor,
            command.item_id,
            command.expected_versions,
        )
        for _ in range(ATTEMPTS):
            async with self._uow_factory() as uow:
                item = await uow.items.get(item_id)
                if item is None:
                    raise ItemNotFound()
                policies.ensure_can_change_item(actor, item)
                item.ensure_version_in(expected_versions)
                version = None if expected_versions is None else item.version
                if await uow.items.delete(item_id, expected_version=version):
                    await uow.commit()
                    return
        # Only reached when the item kept moving between versions the caller all accepts.
        raise ItemChanged()
