from __future__ import annotations

from dataclasses import dataclass, field, replace

from application.ports import EventPage, EventPageRequest, SecurityEventFilter, SecurityEventReader
from domain import policies
from domain.user import User


@dataclass(frozen=True, slots=True)
class ListSecurityEventsCommand:
    """``own``: the caller's own events (the filter's ``user_id`` is theirs, whatever was
    asked); otherwise everyone's, for an administrator."""

    actor: User
    page: EventPageRequest
    where: SecurityEventFilter = field(default_factory=SecurityEventFilter)
    own: bool = False


class ListSecurityEvents:
    """The security events of one's own account, or (administrators only) of everyone,
    filtered by user, actor, type and time; newest first, in keyset pages."""

    def __init__(self, events: SecurityEventReader) -> None:
        self._events = events

    async def execute(self, command: ListSecurityEventsCommand) -> EventPage:
        where = command.where
        if command.own:
            where = replace(where, user_id=command.actor.id)
        else:
            policies.ensure_can_read_audit_trail(command.actor)
        return await self._events.list(where, command.page)
