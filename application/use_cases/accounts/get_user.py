from __future__ import annotations

import uuid

from application.ports import (
    UnitOfWorkFactory,
)
from domain import policies
from domain.errors import UserNotFound
from domain.user import User


class GetUser:
    """A user sees their own account; an administrator sees any."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def execute(self, actor: User, user_id: uuid.UUID) -> User:
        policies.ensure_can_see_user(actor, user_id)
        async with self._uow_factory(read_only=True) as uow:
            user = await uow.users.get(user_id)
        if user is None:
            raise UserNotFound()
        return user
