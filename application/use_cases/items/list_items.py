from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from application.item_counts import ItemCounts
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
    caller or other filters is refused. Without ``q``, the total comes from ``counts``
    when given (a cached count, invalidated by every creation and deletion)."""

    def __init__(
        self, items: ItemReader, cursors: CursorCodec, counts: ItemCounts | None = None
    ) -> None:
        self._items = items
        self._cursors = cursors
        self._counts = counts

    async def execute(self, command: ListItemsCommand) -> Page[Item]:
        actor, owner_id, q = command.actor, command.owner_id, command.q or None
        owner = policies.item_owner_scope(actor, owner_id)
        scope = scope_of("items", actor.id, owner, q)
        request = self._cursors.resume(command.page, command.cursor, scope)
        where = ItemFilter(owner_id=owner, q=q)
        if self._counts is None or q is not None or not request.count:
            found = await self._items.list(where, request)
        else:
            found = await self._items.list(where, replace(request, count=False))
            if found.total is None:
                counted = await self._counts.count(owner, lambda: self._items.count(where))
                found = found.with_count(counted)
        return self._cursors.finish(found, scope)
