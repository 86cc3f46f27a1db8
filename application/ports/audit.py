"""The security audit trail: appended in the transaction of the change it records, or by
itself for what changes nothing (a refused login); read newest first, in keyset pages."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from domain.errors import ValidationFailed
from domain.keyset import Cursor
from domain.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE, MAX_PAGE_SIZE
from domain.security_event import SecurityEvent, SecurityEventType


class SecurityEventStore(Protocol):
    """The trail inside a unit of work: what is added is committed, or rolled back, with
    the change beside it."""

    async def add(self, *events: SecurityEvent) -> None: ...

    async def delete_older_than(self, cutoff: datetime, limit: int) -> int:
        """Delete up to ``limit`` of the oldest events from before ``cutoff``; how many.
        The only way an event ever leaves the trail."""
        ...


class SecurityEventLog(Protocol):
    """Events with no change beside them: one INSERT, atomic on its own."""

    async def record(self, event: SecurityEvent) -> None: ...


@dataclass(frozen=True, slots=True)
class SecurityEventFilter:
    """Each field left None does not filter; ``since`` is inclusive, ``until`` exclusive."""

    user_id: uuid.UUID | None = None
    actor_id: uuid.UUID | None = None
    type: SecurityEventType | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class EventPageRequest:
    """A page by number (an offset), or with ``after`` the page that follows a cursor."""

    page_size: int = DEFAULT_PAGE_SIZE
    page: int = 1
    after: Cursor | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValidationFailed("page_size", f"Must be between 1 and {MAX_PAGE_SIZE}", "range")
        if not 1 <= self.page <= MAX_PAGE:
            raise ValidationFailed("page", f"Must be between 1 and {MAX_PAGE}", "range")

    @property
    def number(self) -> int:
        return self.after.page if self.after is not None else self.page


@dataclass(frozen=True, slots=True)
class EventPage:
    items: list[SecurityEvent]
    total: int
    page: int
    page_size: int
    has_next: bool
    next_cursor: str | None = field(default=None)


class SecurityEventReader(Protocol):
    async def list(self, where: SecurityEventFilter, request: EventPageRequest) -> EventPage:
        """Newest first (ties by id); at most one page and one row more are loaded."""
        ...


def page_of(rows: list[SecurityEvent], total: int, request: EventPageRequest) -> EventPage:
    """The page from up to ``page_size + 1`` rows read: the extra row says there is more."""
    shown = rows[: request.page_size]
    has_next = len(rows) > request.page_size
    next_cursor = None
    if has_next and shown and request.number < MAX_PAGE:
        last = shown[-1]
        next_cursor = Cursor(at=last.at, id=last.id, page=request.number + 1).encode()
    return EventPage(
        items=shown,
        total=total,
        page=request.number,
        page_size=request.page_size,
        has_next=has_next,
        next_cursor=next_cursor,
    )
