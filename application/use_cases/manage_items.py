"""Items: created by their owner, seen and changed by the owner or an administrator."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Collection

from application.changes import UNSET, ItemChanges
from application.ports import Clock, ItemFilter, UnitOfWorkFactory
from domain import policies
from domain.errors import AuthenticationFailed, UserNotFound
from domain.item import Item, ItemBusy, ItemChanged, ItemNotFound
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
        async with self._uow_factory(read_only=True) as uow:
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
        async with self._uow_factory(read_only=True) as uow:
            return await uow.items.list(ItemFilter(owner_id=scope, q=q or None), page)


# Unconditional changes are tried again on a fresh read when a concurrent writer got there
# first; the last attempt locks the row while it reads, so that it cannot lose the race.
ATTEMPTS = 4


class UpdateItem:
    """Change the title or description of an item you own (or any, as an administrator).

    With ``expected_versions`` (the client's ``If-Match``) the change is made only while the
    item is at one of those versions, else ``ItemChanged`` and nothing changes. Without,
    a change that finds the item changed meanwhile is made again on the newer state, so
    that concurrent changes of different fields all survive."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def execute(
        self,
        actor: User,
        item_id: uuid.UUID,
        changes: ItemChanges,
        expected_versions: Collection[int] | None = None,
    ) -> Item:
        for attempt in range(1, ATTEMPTS + 1):
            async with self._uow_factory() as uow:
                current = await uow.items.get(item_id, for_update=attempt == ATTEMPTS)
                if current is None:
                    raise ItemNotFound()
                policies.ensure_can_change_item(actor, current)
                # Invalid input is refused whatever the version: validate first.
                item = self._changed(current, changes)
                current.ensure_version_in(expected_versions)
                if await uow.items.update(item, expected_version=current.version):
                    await uow.commit()
                    return item
        raise ItemBusy()

    def _changed(self, current: Item, changes: ItemChanges) -> Item:
        item = copy.copy(current)
        if changes.title is not UNSET:
            item.retitle(changes.title)
        if changes.description is not UNSET:
            item.describe(changes.description)
        item.touch(self._clock.now())
        return item


class DeleteItem:
    """Delete an item you own (or any, as an administrator); with ``expected_versions``
    (the client's ``If-Match``) only while it is at one of those versions."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def execute(
        self,
        actor: User,
        item_id: uuid.UUID,
        expected_versions: Collection[int] | None = None,
    ) -> None:
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
