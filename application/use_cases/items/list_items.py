from __future__ import annotations

import uuid
from dataclasses import dataclass

from application.ports import ItemFilter, ItemReader
from domain import policies
from domain.item import Item
from domain.keyset import CursorCodec, scope_of
from domain.pagination import Page, PageRequest
from domain.user import User


@dataclass(frozen=True, slots=True)
class ListItemsCommand:
    """``cursor``: a ``next_cursor`` given before, for this caller and these filters."""

    actor: User
    page: PageRequest
    owner_id: uuid.UUID | None = None
    q: str | None = None
    cursor: str | None = None


class ListItems:
    """Your own items, newest first; an administrator sees everyone's and may filter by
    owner. ``q`` matches part of the title, ignoring case. A cursor made for another
    caller or other filters is refused."""

    def __init__(self, items: ItemReader, cursors: CursorCodec) -> None:
        self._items = items
        self._cursors = cursors

    async def execute(self, command: ListItemsCommand) -> Page[Item]:
        actor, owner_id, q = command.actor, command.owner_id, command.q or None
        owner = policies.item_owner_scope(actor, owner_id)
        scope = scope_of("items", actor.id, owner, q)
        request = self._cursors.resume(command.page, command.cursor, scope)
        found = await self._items.list(ItemFilter(owner_id=owner, q=q), request)
        return self._cursors.finish(found, scope)
