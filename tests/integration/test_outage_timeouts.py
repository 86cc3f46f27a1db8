"""A slow database cannot pile requests up: a statement stuck behind a lock is cancelled by
``statement_timeout``, and a wait for a pooled connection gives up after the pool timeout.
Both reach the core as ``StorageUnavailable``, never as a driver exception, and quickly."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime

import asyncpg
import pytest
from sqlalchemy import event
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.errors import POOL_EXHAUSTED, STATEMENT_TIMED_OUT
from adapters.sqlalchemy.readers import SqlAlchemyUserReader
from adapters.sqlalchemy.reads import reads_for
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.errors import StorageUnavailable
from domain.email import Email
from domain.user import User
from tests.integration.conftest import migrated
from tests.support.builders import a_user

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 5, 17, 12, 30, tzinfo=UTC)


@pytest.fixture
async def database(postgres_url: str) -> str:
    await migrated(postgres_url)
    return postgres_url


@pytest.fixture
async def user(database: str) -> User:
    engine = create_engine(database)
    user = a_user(hashed_password="$argon2id$hash", full_name="Ada", now=NOW)
    try:
        async with SqlAlchemyUnitOfWork(engine) as uow:
            await uow.users.add(user)
            await uow.commit()
    finally:
        await engine.dispose()
    return user


async def lock_user_row(database: str, user: User) -> asyncpg.Connection:
    """Another session that holds the user's row lock until it is closed."""
    connection = await asyncpg.connect(database.replace("+asyncpg", "", 1))
    await connection.execute("BEGIN")
    await connection.execute("SELECT id FROM users WHERE id = $1 FOR UPDATE", user.id)
    return connection


async def test_the_statement_timeout_cancels_a_blocked_update(database: str, user: User) -> None:
    engine = create_engine(database, statement_timeout_ms=300)
    locker = await lock_user_row(database, user)
    try:
        started = time.monotonic()
        with pytest.raises(StorageUnavailable) as caught:
            async with SqlAlchemyUnitOfWork(engine) as uow:
                await uow.users.update(user, replace(user, full_name="Ada Lovelace"))
                await uow.commit()
        seconds = time.monotonic() - started
        assert caught.value.message == STATEMENT_TIMED_OUT
        driver_error = caught.value.__cause__
        assert getattr(getattr(driver_error, "orig", None), "sqlstate", None) == "57014"
        assert 0.25 < seconds < 2, seconds
    finally:
        await locker.close()
        await engine.dispose()
    await assert_full_name(database, user, "Ada")


async def test_the_statement_timeout_cancels_a_blocked_read_once(database: str, user: User) -> None:
    # Reads by key wait only for a lock on the whole table, such as a migration takes.
    engine = create_engine(database, statement_timeout_ms=300)
    locker = await asyncpg.connect(database.replace("+asyncpg", "", 1))
    await locker.execute("BEGIN")
    await locker.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
    sent: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: sent.append(a[2]))
    try:
        with pytest.raises(StorageUnavailable) as caught:
            await SqlAlchemyUserReader(reads_for(engine)).get(user.id)
        assert caught.value.message == STATEMENT_TIMED_OUT
        assert getattr(caught.value.__cause__, "sqlstate", None) == "57014"
        assert sent == [], "the read that timed out was run again"
    finally:
        await locker.close()
        await engine.dispose()


async def test_without_a_lock_the_same_update_goes_through(database: str, user: User) -> None:
    engine = create_engine(database, statement_timeout_ms=300)
    try:
        async with SqlAlchemyUnitOfWork(engine) as uow:
            assert await uow.users.update(user, replace(user, full_name="Ada Lovelace"))
            await uow.commit()
    finally:
        await engine.dispose()
    await assert_full_name(database, user, "Ada Lovelace")


@pytest.mark.parametrize("read_side", [False, True], ids=["read-write", "read-side"])
async def test_the_pool_timeout_refuses_a_checkout_while_every_connection_is_busy(
    database: str, read_side: bool
) -> None:
    engine = create_engine(database, pool_size=1, max_overflow=0, pool_timeout=1.0)
    try:
        async with SqlAlchemyUnitOfWork(engine) as busy:
            await busy.users.get_by_email(Email("ada@example.com"))
            started = time.monotonic()
            with pytest.raises(StorageUnavailable) as caught:
                if read_side:
                    await SqlAlchemyUserReader(reads_for(engine)).get_by_email(
                        Email("ada@example.com")
                    )
                else:
                    async with SqlAlchemyUnitOfWork(engine) as uow:
                        await uow.users.get_by_email(Email("ada@example.com"))
            seconds = time.monotonic() - started
        assert caught.value.message == POOL_EXHAUSTED
        assert isinstance(caught.value.__cause__, PoolTimeout)
        # Once: a second checkout after the first gave up would wait as long again.
        assert 0.9 < seconds < 1.8, seconds
        # The connection is back: the pool serves again.
        async with SqlAlchemyUnitOfWork(engine) as uow:
            assert await uow.users.get_by_email(Email("nobody@example.com")) is None
    finally:
        await engine.dispose()


async def assert_full_name(database: str, user: User, expected: str) -> None:
    engine: AsyncEngine = create_engine(database)
    try:
        async with SqlAlchemyUnitOfWork(engine) as uow:
            stored = await uow.users.get(user.id)
    finally:
        await engine.dispose()
    assert stored is not None
    assert stored.full_name == expected
