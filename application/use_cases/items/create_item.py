from __future__ import annotations

from dataclasses import dataclass

from application.item_counts import ItemCounts
from application.ports import Clock, EventBus, UnitOfWorkFactory
from application.use_cases.realtime.publish_live_event import publish_quickly
from domain.errors import AuthenticationFailed, UserNotFound
from domain.events import ItemCreated, item_event
from domain.item import Item
from domain.user import User


@dataclass(frozen=True, slots=True)
class CreateItemCommand:
    actor: User
    title: str
    description: str | None = None


class CreateItem:
    """A new item owned by the caller: title 1 to 200 characters, description up to 10,000."""

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

    async def execute(self, command: CreateItemCommand) -> Item:
        actor, title, description = command.actor, command.title, command.description
        item = Item.create(
            owner_id=actor.id, title=title, description=description, now=self._clock.now()
        )
        event = item_event(ItemCreated, item)
        async with self._uow_factory() as uow:
            try:
                await uow.items.add(item)
                uow.emit(event)
                # A unit of work may send the insert as late as the commit.
                await uow.commit()
            except UserNotFound:
                # The account was deleted after the caller was authenticated: their token
                # is no longer valid, as the next request would find anyway.
                raise AuthenticationFailed() from None
        if self._counts is not None:
            await self._counts.changed(actor.id)
        await publish_quickly(self._live, [event])
        return item
