"""Items: created by their owner, seen and changed by the owner or an administrator."""

from __future__ import annotations

import copy
import uuid

from application.changes import UNSET, ItemChanges
from application.ports import Clock, ItemFilter, UnitOfWorkFactory
from domain import policies
from domain.errors import AuthenticationFailed, UserNotFound
from domain.item import Item, ItemNotFound
from domain.pagination import Page, PageRequest
from domain.user import User


class CreateItem:
    """A new item owned by the caller: title 1 to 200 characters, description up to 10,000."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def execute(self, actor: User, title: str, description: str | None) -> Item:
        item = Item.create(
            owner_id=actor.id, title=title, description=description, now=self._clock.now()
        )
        async with self._uow_factory() as uow:
            try:
                await uow.items.add(item)
            except UserNotFound:
                # The account was deleted after the caller was authenticated: their token
                # is no longer valid, as the next request would find anyway.
                raise AuthenticationFailed() from None
            await uow.commit()
        return item


class GetItem:
    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def execute(self, actor: User, item_id: uuid.UUID) -> Item:
        async with self._uow_factory() as uow:
            item = await uow.items.get(item_id)
        if item is None:
            raise ItemNotFound()
        policies.ensure_can_see_item(actor, item)
        return item


class ListItems:
    """Your own items, newest first; an administrator sees everyone's and may filter by
    owner. ``q`` matches part of the title, ignoring case."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def execute(
        self,
        actor: User,
        page: PageRequest,
        owner_id: uuid.UUID | None = None,
        q: str | None = None,
    ) -> Page[Item]:
        scope = policies.item_owner_scope(actor, owner_id)
        async with self._uow_factory() as uow:
            return await uow.items.list(ItemFilter(owner_id=scope, q=q or None), page)


class UpdateItem:
    """Change the title or description of an item you own (or any, as an administrator)."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def execute(self, actor: User, item_id: uuid.UUID, changes: ItemChanges) -> Item:
        async with self._uow_factory() as uow:
            current = await uow.items.get(item_id)
            if current is None:
                raise ItemNotFound()
            policies.ensure_can_change_item(actor, current)
            item = copy.copy(current)
            if changes.title is not UNSET:
                item.retitle(changes.title)
            if changes.description is not UNSET:
                item.describe(changes.description)
            item.touch(self._clock.now())
            await uow.items.update(item)
            await uow.commit()
        return item


class DeleteItem:
    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def execute(self, actor: User, item_id: uuid.UUID) -> None:
        async with self._uow_factory() as uow:
            item = await uow.items.get(item_id)
            if item is None:
                raise ItemNotFound()
            policies.ensure_can_change_item(actor, item)
            await uow.items.delete(item_id)
            await uow.commit()
