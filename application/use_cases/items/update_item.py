from __future__ import annotations

import copy
import uuid
from collections.abc import Collection
from dataclasses import dataclass

from application.changes import UNSET, ItemChanges
from application.errors import ChangedMeanwhile
from application.ports import Clock, EventBus, UnitOfWorkFactory
from application.retries import ATTEMPTS
from application.use_cases.realtime.publish_live_event import publish_quickly
from domain import policies
from domain.events import ItemUpdated, item_event
from domain.item import Item, ItemBusy, ItemNotFound
from domain.user import User


@dataclass(frozen=True, slots=True)
class UpdateItemCommand:
    actor: User
    item_id: uuid.UUID
    changes: ItemChanges
    expected_versions: Collection[int] | None = None


class UpdateItem:
    """Change the title or description of an item you own (or any, as an administrator).

    With ``expected_versions`` (the client's ``If-Match``) the change is made only while the
    item is at one of those versions, else ``ItemChanged`` and nothing changes. Without,
    a change that finds the item changed meanwhile is made again on the newer state, so
    that concurrent changes of different fields all survive."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, clock: Clock, live: EventBus | None = None
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._live = live

    async def execute(self, command: UpdateItemCommand) -> Item:
        actor, item_id, changes, expected_versions = (
            command.actor,
            command.item_id,
            command.changes,
            command.expected_versions,
        )
        # Tried again on a fresh read when a concurrent writer got there first; the last
        # attempt locks the row while it reads, so that it cannot lose the race.
        for attempt in range(1, ATTEMPTS + 1):
            async with self._uow_factory() as uow:
                current = await uow.items.get(item_id, for_update=attempt == ATTEMPTS)
                if current is None:
                    raise ItemNotFound()
                policies.ensure_can_change_item(actor, current)
                # Invalid input is refused whatever the version: validate first.
                item = self._changed(current, changes)
                current.ensure_version_in(expected_versions)
                event = item_event(ItemUpdated, item)
                uow.emit(event)
                if await uow.items.update(item, expected_version=current.version):
                    try:
                        await uow.commit()
                    except ChangedMeanwhile:
                        continue
                    await publish_quickly(self._live, [event])
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
