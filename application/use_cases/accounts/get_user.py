from __future__ import annotations

import uuid
from dataclasses import dataclass

from application.ports import UserReader
from domain import policies
from domain.errors import UserNotFound
from domain.user import User


@dataclass(frozen=True, slots=True)
class GetUserCommand:
    actor: User
    user_id: uuid.UUID


class GetUser:
    """A user sees their own account; an administrator sees any."""

    def __init__(self, users: UserReader) -> None:
        self._users = users

    async def execute(self, command: GetUserCommand) -> User:
        actor, user_id = command.actor, command.user_id
        policies.ensure_can_see_user(actor, user_id)
        user = await self._users.get(user_id)
        if user is None:
            raise UserNotFound()
        return user
