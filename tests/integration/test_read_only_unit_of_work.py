"""Read-only units of work: they read what is committed, refuse to commit, and on the SQL
databases run each statement on its own, without a transaction held around them."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.ports import UnitOfWorkFactory
from domain.email import Email
from domain.role import Role
from domain.user import User
from tests.integration.conftest import migrated


def _user() -> User:
    now = datetime.now(UTC)
    return User(
        id=uuid.uuid4(),
        email=Email(f"reader-{uuid.uuid4().hex[:8]}@example.com"),
        hashed_password="not-a-hash",
        full_name=None,
        roles=frozenset({Role.USER}),
        is_active=True,
        is_superuser=False,
        is_verified=False,
        created_at=now,
        updated_at=now,
        sessions_valid_after=now,
    )


async def test_a_read_only_unit_of_work_reads_what_is_committed(
    uow_factory: UnitOfWorkFactory,
) -> None:
    user = _user()
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        found = await uow.users.get(user.id)
        missing = await uow.users.get(uuid.uuid4())
    assert found is not None
    assert found.email == user.email
    assert missing is None


async def test_a_read_only_unit_of_work_refuses_to_commit(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory(read_only=True) as uow:
        with pytest.raises(RuntimeError, match="read-only"):
            await uow.commit()


@pytest.mark.postgres
async def test_on_postgresql_read_only_statements_run_outside_a_transaction(
    postgres_url: str,
) -> None:
    # now() is the start of the transaction: the same for every statement of one, and
    # different for statements that are each their own.
    await migrated(postgres_url)
    engine = create_engine(postgres_url, pool_size=2)
    try:
        async with SqlAlchemyUnitOfWork(engine) as uow:
            first = await _now(uow)
            await asyncio.sleep(0.01)
            assert await _now(uow) == first
        async with SqlAlchemyUnitOfWork(engine, read_only=True) as uow:
            first = await _now(uow)
            await asyncio.sleep(0.01)
            assert await _now(uow) > first
        # The connection went back to the pool as it came: the next unit of work that
        # writes has its transaction again.
        async with SqlAlchemyUnitOfWork(engine) as uow:
            first = await _now(uow)
            await asyncio.sleep(0.01)
            assert await _now(uow) == first
    finally:
        await engine.dispose()


async def _now(uow: SqlAlchemyUnitOfWork) -> datetime:
    assert uow._connection is not None
    value: datetime = (await uow._connection.execute(text("SELECT now()"))).scalar_one()
    return value
