from __future__ import annotations

from dataclasses import dataclass

from application.ports import UserFilter, UserReader
from domain import policies
from domain.email import Email
from domain.keyset import CursorCodec, scope_of
from domain.pagination import Page, PageRequest
from domain.role import Role
from domain.user import User


@dataclass(frozen=True, slots=True)
class ListUsersCommand:
    """``cursor``: a ``next_cursor`` given before, for this caller and these filters."""

    actor: User
    page: PageRequest
    email: str | None = None
    is_active: bool | None = None
    role: Role | None = None
    cursor: str | None = None


class ListUsers:
    """Administrators only: a page of accounts, newest first, filtered by exact email,
    active flag or role. A cursor made for another caller or other filters is refused."""

    def __init__(self, users: UserReader, cursors: CursorCodec) -> None:
        self._users = users
        self._cursors = cursors

    async def execute(self, command: ListUsersCommand) -> Page[User]:
        actor = command.actor
        policies.ensure_can_list_users(actor)
        email = Email(command.email) if command.email is not None else None
        where = UserFilter(email, command.is_active, command.role)
        scope = scope_of(
            "users",
            actor.id,
            email.value if email else None,
            where.is_active,
            where.role.value if where.role else None,
        )
        request = self._cursors.resume(command.page, command.cursor, scope)
        return self._cursors.finish(await self._users.list(where, request), scope)
