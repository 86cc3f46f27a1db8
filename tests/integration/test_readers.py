"""The read side: it reads what is committed, and on the SQL databases runs each statement
on its own, without a transaction held around it. On PostgreSQL its reads go to asyncpg
directly, give the same entities as SQLAlchemy's path, and fall back to it when the
driver's connection fails."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, func, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.driver import DriverConnection, for_driver
from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.readers import SqlAlchemyItemReader, SqlAlchemyUserReader
from adapters.sqlalchemy.reads import AsyncpgReads, SqlAlchemyReads, reads_for
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.ports import ItemFilter, UnitOfWorkFactory, UserFilter, UserReader
from domain.item import Item
from domain.pagination import PageRequest
from domain.role import Role
from domain.user import User
from tests.integration.conftest import migrated
from tests.support.builders import a_user, an_item


def _user() -> User:
    return a_user(
        f"reader-{uuid.uuid4().hex[:8]}@example.com",
        hashed_password="not-a-hash",
        now=datetime.now(UTC),
    )


async def test_the_read_side_reads_what_is_committed(
    uow_factory: UnitOfWorkFactory, user_reader: UserReader
) -> None:
    user = _user()
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.commit()
    found = await user_reader.get(user.id)
    missing = await user_reader.get(uuid.uuid4())
    assert found is not None
    assert found.email == user.email
    assert missing is None


@pytest.mark.postgres
async def test_on_postgresql_reads_through_sqlalchemy_run_outside_a_transaction(
    postgres_url: str,
) -> None:
    # now() is the start of the transaction: the same for every statement of one.
    await migrated(postgres_url)
    engine = create_engine(postgres_url, pool_size=2)
    in_transaction: list[bool] = []

    def seen(connection: Any, *_: Any) -> None:
        driver = connection.connection.driver_connection
        in_transaction.append(driver.is_in_transaction())

    event.listen(engine.sync_engine, "after_cursor_execute", seen)
    try:
        async with SqlAlchemyUnitOfWork(engine) as uow:
            first = await _now(uow)
            await asyncio.sleep(0.01)
            assert await _now(uow) == first
        await SqlAlchemyReads(engine).rows(select(func.now()), {})
        # The connection went back to the pool as it came: the next unit of work that
        # writes has its transaction again.
        async with SqlAlchemyUnitOfWork(engine) as uow:
            first = await _now(uow)
            await asyncio.sleep(0.01)
            assert await _now(uow) == first
    finally:
        await engine.dispose()
    assert in_transaction == [True, True, False, True, True]


async def _now(uow: SqlAlchemyUnitOfWork) -> datetime:
    assert uow._connection is not None
    value: datetime = (await uow._connection.execute(text("SELECT now()"))).scalar_one()
    return value


@pytest.fixture
async def pg_engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    await migrated(postgres_url)
    engine = create_engine(postgres_url, pool_size=1)
    try:
        yield engine
    finally:
        await engine.dispose()


class _Statements:
    """Counts the statements SQLAlchemy itself sends."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1


async def _read_everything(
    reads: SqlAlchemyReads | AsyncpgReads, user: User, items: list[Item]
) -> Any:
    page = PageRequest(1, 2)
    users, things = SqlAlchemyUserReader(reads), SqlAlchemyItemReader(reads)
    return (
        await users.get(user.id),
        await users.get(uuid.uuid4()),
        await users.get_by_email(user.email),
        await users.list(UserFilter(), page),
        await users.list(UserFilter(email=user.email, is_active=True, role=Role.USER), page),
        await things.get(items[0].id),
        await things.get(uuid.uuid4()),
        await things.list(ItemFilter(owner_id=user.id), page),
        await things.list(ItemFilter(owner_id=user.id, q="TITLE 1"), page),
        await things.list(ItemFilter(q="100%_"), page),
    )


@pytest.mark.postgres
async def test_on_postgresql_reads_skip_sqlalchemy_and_give_the_same_entities(
    pg_engine: AsyncEngine,
) -> None:
    user = _user()
    now = datetime.now(UTC)
    items = [
        an_item(user, title=f"Title {n} 100%_", description=None if n else "text", now=now)
        for n in range(3)
    ]
    async with SqlAlchemyUnitOfWork(pg_engine) as uow:
        await uow.users.add(user)
        for item in items:
            await uow.items.add(item)
        await uow.commit()
    sent = _Statements(pg_engine)
    through_sqlalchemy = await _read_everything(SqlAlchemyReads(pg_engine), user, items)
    assert sent.count > 0
    sent.count = 0
    reads = reads_for(pg_engine)
    assert isinstance(reads, AsyncpgReads)
    through_asyncpg = await _read_everything(reads, user, items)
    assert sent.count == 0, "a read went through SQLAlchemy's execution"
    assert through_asyncpg == through_sqlalchemy
    found, missing, by_email, users, filtered, item, no_item, page, search, anywhere = (
        through_asyncpg
    )
    assert (found, missing, by_email) == (user, None, user)
    assert (users.total, filtered.total, users.items) == (1, 1, [user])
    assert (item, no_item) == (items[0], None)
    assert (page.total, len(page.items), search.items, anywhere.total) == (3, 2, [items[1]], 3)
    assert found is not None
    assert found.created_at.tzinfo is UTC
    assert type(found.id) is uuid.UUID, "the driver's own UUID type left the adapter"


async def _backends(engine: AsyncEngine, query: str, where: str = "TRUE") -> int:
    """``count(query)`` over the pool's server processes, seen from a connection of its own."""
    admin = create_engine(engine.url.render_as_string(hide_password=False), pool_size=1)
    try:
        async with admin.connect() as connection:
            result = await connection.execute(
                text(
                    f"SELECT count({query}) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    f"AND application_name = 'keel' AND {where}"
                )
            )
            return int(result.scalar_one())
    finally:
        await admin.dispose()


@pytest.mark.postgres
async def test_a_read_on_a_broken_driver_connection_is_answered_through_sqlalchemy(
    pg_engine: AsyncEngine,
) -> None:
    user = _user()
    async with SqlAlchemyUnitOfWork(pg_engine) as uow:
        await uow.users.add(user)
        await uow.commit()
    reader = SqlAlchemyUserReader(reads_for(pg_engine))
    assert await reader.get(user.id) == user
    # The one pooled connection dies under the pool, as in a database restart.
    assert await _backends(pg_engine, "pg_terminate_backend(pid)") == 1
    sent = _Statements(pg_engine)
    assert await reader.get(user.id) == user
    assert sent.count == 1, "the failed read is run again through SQLAlchemy"
    # The broken connection was not given back: the next read is the driver's again.
    assert await reader.get(user.id) == user
    assert sent.count == 1


@pytest.mark.postgres
async def test_a_cancelled_read_leaves_nothing_running_and_the_pool_usable(
    pg_engine: AsyncEngine,
) -> None:
    connection = await DriverConnection.checkout(pg_engine)
    cancelled_pid = connection.driver_connection.get_server_pid()
    sleep = for_driver(select(func.pg_sleep(literal_column("30"))), pg_engine.dialect)
    try:
        read = asyncio.create_task(connection.fetch(sleep, {}))
        await asyncio.sleep(0.3)
        assert await _backends(pg_engine, "*", "query LIKE '%pg_sleep%'") == 1
        read.cancel()
        with pytest.raises(asyncio.CancelledError):
            await read
    finally:
        await connection.close()
    # The connection that carried the statement is closed, and its statement with it.
    sleeping = "query LIKE '%pg_sleep%'"
    deadline = time.monotonic() + 5
    while await _backends(pg_engine, "*", sleeping):
        assert time.monotonic() < deadline, "the cancelled statement is still running"
        await asyncio.sleep(0.05)
    assert await SqlAlchemyUserReader(reads_for(pg_engine)).get(uuid.uuid4()) is None
    reads = reads_for(pg_engine)
    pid = (await reads.rows(select(func.pg_backend_pid()), {}))[0][0]
    assert pid != cancelled_pid, "the cancelled connection went back to the pool"


@pytest.mark.postgres
async def test_a_title_search_is_planned_for_its_word_every_time(pg_engine: AsyncEngine) -> None:
    """PostgreSQL gives a prepared statement a generic plan after five runs: for a search,
    one blind to the word (a rare one then walks every item). The search is planned for
    its values each time; the other reads keep their cached plans."""
    reader = SqlAlchemyItemReader(reads_for(pg_engine))
    for _ in range(8):
        await reader.list(ItemFilter(q="rare"), PageRequest(1, 20))
        await reader.list(ItemFilter(), PageRequest(1, 20))
    connection = await DriverConnection.checkout(pg_engine)
    try:
        plans = await connection.driver_connection.fetch(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
        )
    finally:
        await connection.close()
    searches = [p for p in plans if "ILIKE" in p["statement"]]
    listings = [
        p for p in plans if "FROM items" in p["statement"] and "ILIKE" not in p["statement"]
    ]
    assert listings, plans  # the plain listing is cached, and so it is seen here
    assert sum(p["generic_plans"] for p in searches) == 0, searches
    assert all(p["custom_plans"] <= 1 for p in searches), searches
