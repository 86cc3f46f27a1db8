from __future__ import annotations

import uuid
from dataclasses import dataclass

from application.ports import UnitOfWorkFactory
from domain import policies
from domain.item import Item, ItemNotFound
from domain.user import User


@dataclass(frozen=True, slots=True)
class GetItemCommand:
    actor: User
    item_id: uuid.UUID


class GetItem:
    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def execute(self, command: GetItemCommand) -> Item:
        actor, item_id = command.actor, command.item_id
        async with self._uow_factory(read_only=True) as uow:
            item = await uow.items.get(item_id)
        if item is None:
            raise ItemNotFound()
        policies.ensure_can_see_item(actor, item)
        return item
