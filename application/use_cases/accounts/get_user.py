from __future__ import annotations

import uuid

from application.ports import UserReader
from domain import policies
from domain.errors import UserNotFound
from domain.user import User


class GetUser:
    """A user sees their own account; an administrator sees any."""

    def __init__(self, users: UserReader) -> None:
        self._users = users

    async def execute(self, actor: User, user_id: uuid.UUID) -> User:
        policies.ensure_can_see_user(actor, user_id)
        user = await self._users.get(user_id)
        if user is None:
            raise UserNotFound()
        return user
