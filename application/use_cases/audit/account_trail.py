from __future__ import annotations

from dataclasses import dataclass

from application.ports import (
    EventPage,
    EventPageRequest,
    SecurityEventFilter,
    SecurityEventReader,
    UserReader,
)
from domain.email import Email
from domain.errors import UserNotFound


@dataclass(frozen=True, slots=True)
class AccountTrailCommand:
    email: str
    limit: int


class AccountTrail:
    """An operator's view of one account's security events, newest first, by its email
    (normalised as everywhere); ``UserNotFound`` when no account has it. The command line
    runs with the operator's own authority: no actor is checked."""

    def __init__(self, users: UserReader, events: SecurityEventReader) -> None:
        self._users = users
        self._events = events

    async def execute(self, command: AccountTrailCommand) -> EventPage:
        user = await self._users.get_by_email(Email(command.email))
        if user is None:
            raise UserNotFound()
        where = SecurityEventFilter(user_id=user.id)
        return await self._events.list(where, EventPageRequest(page_size=command.limit))
