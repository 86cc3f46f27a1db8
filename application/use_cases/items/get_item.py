from __future__ import annotations

import uuid
from dataclasses import dataclass

from application.ports import ItemReader
from domain import policies
from domain.item import Item, ItemNotFound
from domain.user import User


@dataclass(frozen=True, slots=True)
class GetItemCommand:
    actor: User
    item_id: uuid.UUID


class GetItem:
    def __init__(self, items: ItemReader) -> None:
        self._items = items

    async def execute(self, command: GetItemCommand) -> Item:
        actor, item_id = command.actor, command.item_id
        item = await self._items.get(item_id)
        if item is None:
            raise ItemNotFound()
        policies.ensure_can_see_item(actor, item)
        return item
