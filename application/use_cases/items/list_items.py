from __future__ import annotations

import uuid
from dataclasses import dataclass

from application.ports import ItemFilter, ItemReader
from domain import policies
from domain.item import Item
from domain.pagination import Page, PageRequest
from domain.user import User


@dataclass(frozen=True, slots=True)
class ListItemsCommand:
    actor: User
    page: PageRequest
    owner_id: uuid.UUID | None = None
    q: str | None = None


class ListItems:
    """Your own items, newest first; an administrator sees everyone's and may filter by
    owner. ``q`` matches part of the title, ignoring case."""

    def __init__(self, items: ItemReader) -> None:
        self._items = items

    async def execute(self, command: ListItemsCommand) -> Page[Item]:
        actor, page, owner_id, q = command.actor, command.page, command.owner_id, command.q
        scope = policies.item_owner_scope(actor, owner_id)
        return await self._items.list(ItemFilter(owner_id=scope, q=q or None), page)
