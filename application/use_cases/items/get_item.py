from __future__ import annotations

import uuid

from application.ports import UnitOfWorkFactory
from domain import policies
from domain.item import Item, ItemNotFound
from domain.user import User


class GetItem:
    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def execute(self, actor: User, item_id: uuid.UUID) -> Item:
        async with self._uow_factory(read_only=True) as uow:
            item = await uow.items.get(item_id)
        if item is None:
            raise ItemNotFound()
        policies.ensure_can_see_item(actor, item)
        return item
