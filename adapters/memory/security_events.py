"""The security audit trail in a list, for the fast tests: staged per transaction,
appended on commit."""

from __future__ import annotations

from datetime import datetime

from application.ports.audit import EventPage, EventPageRequest, SecurityEventFilter, page_of
from domain.security_event import SecurityEvent


class InMemorySecurityEventStore:
    def __init__(self, events: list[SecurityEvent]) -> None:
        self._events = events
        self._added: list[SecurityEvent] = []
        self._deleted: set[object] = set()

    async def add(self, *events: SecurityEvent) -> None:
        self._added.extend(events)

    async def delete_older_than(self, cutoff: datetime, limit: int) -> int:
        old = sorted(
            (e for e in self._events if e.at < cutoff and e.id not in self._deleted),
            key=lambda e: e.at,
        )[:limit]
        self._deleted.update(e.id for e in old)
        return len(old)

    def commit(self) -> None:
        self._events[:] = [e for e in self._events if e.id not in self._deleted] + self._added
        self.rollback()

    def rollback(self) -> None:
        self._added = []
        self._deleted = set()


class InMemorySecurityEventLog:
    def __init__(self, events: list[SecurityEvent]) -> None:
        self._events = events

    async def record(self, event: SecurityEvent) -> None:
        self._events.append(event)


class InMemorySecurityEventReader:
    def __init__(self, events: list[SecurityEvent]) -> None:
        self._events = events

    async def list(self, where: SecurityEventFilter, request: EventPageRequest) -> EventPage:
        matching = [e for e in self._events if _matches(e, where)]
        matching.sort(key=lambda e: (e.at, e.id.int), reverse=True)
        after = request.after
        if after is not None:
            key = (after.at, after.id.int)
            rows = [e for e in matching if (e.at, e.id.int) < key]
        else:
            rows = matching[(request.page - 1) * request.page_size :]
        return page_of(rows[: request.page_size + 1], len(matching), request)


def _matches(event: SecurityEvent, where: SecurityEventFilter) -> bool:
    return (
        (where.user_id is None or event.user_id == where.user_id)
        and (where.actor_id is None or event.actor_id == where.actor_id)
        and (where.type is None or event.type == where.type)
        and (where.since is None or event.at >= where.since)
        and (where.until is None or event.at < where.until)
    )
