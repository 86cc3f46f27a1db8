"""The audit trail's adapters on every backend: added with the transaction and only by its
commit, recorded by itself, read newest first by key (ties by id), deleted only by age and in
batches; on PostgreSQL the database itself refuses to change an event."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import DBAPIError

from adapters.memory.security_events import (
    InMemorySecurityEventLog,
    InMemorySecurityEventReader,
)
from adapters.memory.store import InMemoryStore
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.reads import SqlAlchemyReads
from adapters.sqlalchemy.security_events import (
    SqlAlchemySecurityEventLog,
    SqlAlchemySecurityEventReader,
)
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.ports import (
    EventPageRequest,
    SecurityEventFilter,
    SecurityEventLog,
    SecurityEventReader,
    UnitOfWorkFactory,
)
from domain.keyset import Cursor
from domain.security_event import NOWHERE, SecurityEvent, SecurityEventType
from tests.integration.conftest import migrated
from tests.support.builders import a_user
from tests.support.sql import execute

NOW = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
T = SecurityEventType


@dataclass(frozen=True)
class Trail:
    uow_factory: UnitOfWorkFactory
    log: SecurityEventLog
    reader: SecurityEventReader
    url: str | None


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def trail(request: pytest.FixtureRequest) -> AsyncIterator[Trail]:
    if request.param == "memory":
        store = InMemoryStore()
        yield Trail(
            lambda: InMemoryUnitOfWork(store),
            InMemorySecurityEventLog(store.security_events),
            InMemorySecurityEventReader(store.security_events),
            None,
        )
        return
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    await migrated(url)
    engine = create_engine(url, pool_size=5)
    try:
        yield Trail(
            lambda: SqlAlchemyUnitOfWork(engine),
            SqlAlchemySecurityEventLog(engine),
            SqlAlchemySecurityEventReader(SqlAlchemyReads(engine)),
            url,
        )
    finally:
        await engine.dispose()


def event(
    kind: SecurityEventType = T.LOGIN_FAILED,
    *,
    at: datetime = NOW,
    user_id: uuid.UUID | None = None,
    actor_id: uuid.UUID | None = None,
) -> SecurityEvent:
    return SecurityEvent.record(
        kind,
        user_id=user_id or uuid.uuid4(),
        actor_id=actor_id,
        origin=NOWHERE,
        at=at,
        details={"reason": "password"},
    )


async def everything(trail: Trail) -> list[SecurityEvent]:
    page = await trail.reader.list(SecurityEventFilter(), EventPageRequest(page_size=100))
    return page.items


async def test_events_are_stored_by_the_commit_and_only_by_it(trail: Trail) -> None:
    kept, lost, also_lost = event(), event(), event()
    user = a_user("lost@example.com", now=NOW)
    async with trail.uow_factory() as uow:  # no commit: rolled back with the user
        await uow.users.add(user)
        await uow.security_events.add(lost)
    with pytest.raises(RuntimeError):
        async with trail.uow_factory() as uow:
            await uow.security_events.add(also_lost)
            await uow.commit()  # a first commit ...
            await uow.security_events.add(lost)  # ... and what comes after it is not kept
            raise RuntimeError("boom")
    async with trail.uow_factory() as uow:
        await uow.security_events.add(kept)
        await uow.commit()
    assert {e.id for e in await everything(trail)} == {kept.id, also_lost.id}


async def test_recorded_by_itself_and_read_back_whole(trail: Trail) -> None:
    one = event(T.LOGIN_THROTTLED, actor_id=uuid.uuid4())
    await trail.log.record(one)
    [back] = await everything(trail)
    assert back == one


async def test_pages_by_key_are_newest_first_ties_by_id_and_filter(trail: Trail) -> None:
    ada, bob = uuid.uuid4(), uuid.uuid4()
    # Several events at the very same moment: only the id orders them.
    made = [event(at=NOW + timedelta(seconds=n // 3), user_id=ada) for n in range(9)]
    made += [event(T.LOGIN_SUCCEEDED, at=NOW, user_id=bob, actor_id=bob)]
    for one in made:
        await trail.log.record(one)
    where = SecurityEventFilter(user_id=ada)
    seen: list[SecurityEvent] = []
    request = EventPageRequest(page_size=4)
    while True:
        page = await trail.reader.list(where, request)
        assert page.total == 9
        seen += page.items
        if page.next_cursor is None:
            break
        request = EventPageRequest(page_size=4, after=Cursor.decode(page.next_cursor))
    expected = sorted(made[:9], key=lambda e: (e.at, e.id.int), reverse=True)
    assert [e.id for e in seen] == [e.id for e in expected]
    only = SecurityEventFilter(type=T.LOGIN_SUCCEEDED, actor_id=bob, until=NOW + timedelta(1))
    assert [e.id for e in (await trail.reader.list(only, EventPageRequest())).items] == [
        made[-1].id
    ]
    later = SecurityEventFilter(since=NOW + timedelta(seconds=2))
    assert (await trail.reader.list(later, EventPageRequest())).total == 3


async def test_only_events_older_than_the_cutoff_are_deleted_in_batches(trail: Trail) -> None:
    old = [event(at=NOW - timedelta(days=400, minutes=n)) for n in range(5)]
    young = [event(at=NOW - timedelta(days=10)), event(at=NOW)]
    for one in old + young:
        await trail.log.record(one)
    cutoff = NOW - timedelta(days=365)
    async with trail.uow_factory() as uow:
        assert await uow.security_events.delete_older_than(cutoff, 2) == 2
        await uow.commit()
    async with trail.uow_factory() as uow:
        assert await uow.security_events.delete_older_than(cutoff, 10) == 3
        await uow.commit()
    assert {e.id for e in await everything(trail)} == {e.id for e in young}


@pytest.mark.postgres
async def test_postgresql_refuses_to_change_an_event(postgres_url: str) -> None:
    await migrated(postgres_url)
    engine = create_engine(postgres_url, pool_size=1)
    try:
        one = event()
        await SqlAlchemySecurityEventLog(engine).record(one)
    finally:
        await engine.dispose()
    for change in (
        "UPDATE security_events SET details = '{}'",
        "UPDATE security_events SET user_id = NULL WHERE id = :id",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            await execute(postgres_url, change, id=one.id)
    await execute(postgres_url, "DELETE FROM security_events WHERE id = :id", id=one.id)
