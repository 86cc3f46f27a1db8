from __future__ import annotations

from dataclasses import dataclass

from application.ports import (
    EventPageRequest,
    SecurityEventFilter,
    SecurityEventReader,
    UserReader,
)
from domain.email import Email
from domain.errors import UserNotFound, ValidationFailed
from domain.keyset import Cursor
from domain.pagination import MAX_PAGE_SIZE
from domain.security_event import SecurityEvent

MAX_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class AccountTrailCommand:
    email: str
    limit: int = 50


class AccountTrail:
    """An operator's view of one account's security events, newest first, by its email
    (normalised as everywhere); ``UserNotFound`` when no account has it. The command line
    runs with the operator's own authority: no actor is checked. Read page by page, by key,
    however many are asked for."""

    def __init__(self, users: UserReader, events: SecurityEventReader) -> None:
        self._users = users
        self._events = events

    async def execute(self, command: AccountTrailCommand) -> list[SecurityEvent]:
        if not 1 <= command.limit <= MAX_LIMIT:
            raise ValidationFailed("limit", f"Must be between 1 and {MAX_LIMIT}", "range")
        user = await self._users.get_by_email(Email(command.email))
        if user is None:
            raise UserNotFound()
        where = SecurityEventFilter(user_id=user.id)
        found: list[SecurityEvent] = []
        after: Cursor | None = None
        while len(found) < command.limit:
            size = min(MAX_PAGE_SIZE, command.limit - len(found))
            page = await self._events.list(where, EventPageRequest(page_size=size, after=after))
            found += page.items
            if page.next_cursor is None:
                break
            after = Cursor.decode(page.next_cursor)
        return found
