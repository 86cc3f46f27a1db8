from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from application.item_counts import ItemCounts
from application.ports import Clock, EventBus, UnitOfWorkFactory
from application.retries import ATTEMPTS
from application.use_cases.realtime.publish_live_event import publish_quickly
from domain import policies
from domain.events import ItemDeleted, attachments_removed, iso
from domain.item import ItemChanged, ItemNotFound
from domain.user import User


@dataclass(frozen=True, slots=True)
class DeleteItemCommand:
    actor: User
    item_id: uuid.UUID
    expected_versions: Collection[int] | None = None


class DeleteItem:
    """Delete an item you own (or any, as an administrator), and its attachments; with
    ``expected_versions`` (the client's ``If-Match``) only while it is at one of those
    versions."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        live: EventBus | None = None,
        counts: ItemCounts | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._live = live
        self._counts = counts

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
                # Without a condition the row may have moved past the version read: the
                # event then names the version read, which a client holding a newer one
                # still takes as the deletion of the item.
                event = ItemDeleted(item.id, item.owner_id, item.version, iso(self._clock.now()))
                uow.emit(event)
                # Read and deleted in this transaction: the job removing their bytes is
                # committed with the deletion, and an upload finishing meanwhile waits.
                keys = await uow.attachments.release_item(item.id, item.owner_id)
                for removal in attachments_removed(keys):
                    uow.emit(removal)
                if await uow.items.delete(item_id, expected_version=version):
                    await uow.commit()
                    if self._counts is not None:
                        await self._counts.changed(item.owner_id)
                    await publish_quickly(self._live, [event])
                    return
        # Only reached when the item kept moving between versions the caller all accepts.
        raise ItemChanged()
