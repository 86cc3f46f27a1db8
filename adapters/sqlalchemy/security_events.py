"""The security audit trail in SQL: added inside a unit of work, recorded by itself, read
in keyset pages, deleted in batches by age."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.connection import Connection, autocommit
from adapters.sqlalchemy.errors import translate_errors
from adapters.sqlalchemy.reads import Reads
from adapters.sqlalchemy.rows import plain_uuid
from adapters.sqlalchemy.tables import UTCDateTime
from adapters.sqlalchemy.tables import security_events as table
from application.ports.audit import EventPage, EventPageRequest, SecurityEventFilter, page_of
from domain.security_event import SecurityEvent, SecurityEventType


class SqlAlchemySecurityEventStore:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    async def add(self, *events: SecurityEvent) -> None:
        if not events:
            return
        with translate_errors():
            await self._connection.execute(insert(table).values([_values(e) for e in events]))

    async def delete_older_than(self, cutoff: datetime, limit: int) -> int:
        oldest = select(table.c.id).where(table.c.at < cutoff).order_by(table.c.at).limit(limit)
        statement = delete(table).where(table.c.id.in_(oldest.scalar_subquery()))
        with translate_errors():
            result = await self._connection.execute(statement)
        return int(result.rowcount)


class SqlAlchemySecurityEventLog:
    """One INSERT on a connection handed out without a transaction: atomic by itself."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = autocommit(engine)

    async def record(self, event: SecurityEvent) -> None:
        with translate_errors():
            connection = await Connection.open(self._engine)
            try:
                await connection.execute(insert(table).values(_values(event)))
            finally:
                await connection.close()


class SqlAlchemySecurityEventReader:
    def __init__(self, reads: Reads) -> None:
        self._reads = reads

    async def list(self, where: SecurityEventFilter, request: EventPageRequest) -> EventPage:
        parameters: dict[str, Any] = {
            "user_id": where.user_id,
            "actor_id": where.actor_id,
            "type": where.type.value if where.type is not None else None,
            "since": where.since,
            "until": where.until,
        }
        parameters = {name: value for name, value in parameters.items() if value is not None}
        flags = tuple(name in parameters for name in _FILTERS)
        after = request.after
        page, count = _statements(flags, after is not None)
        bounds: dict[str, Any] = {"limit": request.page_size + 1, "offset": 0}
        if after is not None:
            bounds |= {"after_at": after.at, "after_id": after.id}
        else:
            bounds["offset"] = (request.page - 1) * request.page_size
        rows = await self._reads.rows(page, parameters | bounds)
        total = int((await self._reads.rows(count, parameters))[0][0])
        return page_of([_event(row) for row in rows], total, request)


_FILTERS = ("user_id", "actor_id", "type", "since", "until")


@functools.cache
def _statements(flags: tuple[bool, ...], after: bool) -> tuple[Select[Any], Select[Any]]:
    """The page and the count for one combination of filters: built once each, a bounded
    handful, so that no statement is built per request."""
    by_user, by_actor, by_type, since, until = flags
    conditions: list[ColumnElement[bool]] = []
    if by_user:
        conditions.append(table.c.user_id == bindparam("user_id"))
    if by_actor:
        conditions.append(table.c.actor_id == bindparam("actor_id"))
    if by_type:
        conditions.append(table.c.type == bindparam("type", type_=String))
    if since:
        conditions.append(table.c.at >= bindparam("since", type_=UTCDateTime))
    if until:
        conditions.append(table.c.at < bindparam("until", type_=UTCDateTime))
    count = select(func.count()).select_from(table).where(*conditions)
    if after:
        at = bindparam("after_at", type_=UTCDateTime)
        conditions.append(
            or_(table.c.at < at, and_(table.c.at == at, table.c.id < bindparam("after_id")))
        )
    page = (
        select(table)
        .where(*conditions)
        .order_by(table.c.at.desc(), table.c.id.desc())
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )
    return page, count


def _values(event: SecurityEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.type.value,
        "user_id": event.user_id,
        "actor_id": event.actor_id,
        "address": event.address,
        "user_agent": event.user_agent,
        "at": event.at,
        "details": json.dumps(event.details, separators=(",", ":"), sort_keys=True),
    }


def _event(row: Sequence[Any]) -> SecurityEvent:
    id_, type_, user_id, actor_id, address, user_agent, at, details = row[:8]
    return SecurityEvent(
        id=plain_uuid(id_),
        type=SecurityEventType(type_),
        user_id=plain_uuid(user_id) if user_id is not None else None,
        actor_id=plain_uuid(actor_id) if actor_id is not None else None,
        address=address,
        user_agent=user_agent,
        at=at if at.tzinfo is not None else at.replace(tzinfo=UTC),
        details=json.loads(details),
    )
