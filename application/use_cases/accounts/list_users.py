from __future__ import annotations

from dataclasses import dataclass

from application.ports import UserFilter, UserReader
from domain import policies
from domain.email import Email
from domain.pagination import Page, PageRequest
from domain.role import Role
from domain.user import User


@dataclass(frozen=True, slots=True)
class ListUsersCommand:
    actor: User
    page: PageRequest
    email: str | None = None
    is_active: bool | None = None
    role: Role | None = None


class ListUsers:
    """Administrators only: a page of accounts, newest first, filtered by exact email,
    active flag or role."""

    def __init__(self, users: UserReader) -> None:
        self._users = users

    async def execute(self, command: ListUsersCommand) -> Page[User]:
        actor, page, email, is_active, role = (
            command.actor,
            command.page,
            command.email,
            command.is_active,
            command.role,
        )
        policies.ensure_can_list_users(actor)
        where = UserFilter(Email(email) if email is not None else None, is_active, role)
        return await self._users.list(where, page)
