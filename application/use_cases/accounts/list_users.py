from __future__ import annotations

from application.ports import UserFilter, UserReader
from domain import policies
from domain.email import Email
from domain.pagination import Page, PageRequest
from domain.role import Role
from domain.user import User


class ListUsers:
    """Administrators only: a page of accounts, newest first, filtered by exact email,
    active flag or role."""

    def __init__(self, users: UserReader) -> None:
        self._users = users

    async def execute(
        self,
        actor: User,
        page: PageRequest,
        email: str | None = None,
        is_active: bool | None = None,
        role: Role | None = None,
    ) -> Page[User]:
        policies.ensure_can_list_users(actor)
        where = UserFilter(Email(email) if email is not None else None, is_active, role)
        return await self._users.list(where, page)
