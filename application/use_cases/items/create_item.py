from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, UnitOfWorkFactory
from domain.errors import AuthenticationFailed, UserNotFound
from domain.item import Item
from domain.user import User


@dataclass(frozen=True, slots=True)
class CreateItemCommand:
    actor: User
    title: str
    description: str | None = None


class CreateItem:
    """A new item owned by the caller: title 1 to 200 characters, description up to 10,000."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def execute(self, command: CreateItemCommand) -> Item:
        actor, title, description = command.actor, command.title, command.description
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
