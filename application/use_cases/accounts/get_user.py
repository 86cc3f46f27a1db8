from __future__ import annotations

import uuid
from dataclasses import dataclass

from application.ports import UnitOfWorkFactory
from domain import policies
from domain.errors import UserNotFound
from domain.user import User


@dataclass(frozen=True, slots=True)
class GetUserCommand:
    actor: User
    user_id: uuid.UUID


class GetUser:
    """A user sees their own account; an administrator sees any."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def execute(self, command: GetUserCommand) -> User:
        actor, user_id = command.actor, command.user_id
        policies.ensure_can_see_user(actor, user_id)
        async with self._uow_factory(read_only=True) as uow:
            user = await uow.users.get(user_id)
        if user is None:
            raise UserNotFound()
        return user
