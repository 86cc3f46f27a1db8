"""The relay into procrastinate's queue on PostgreSQL: every committed outbox entry becomes
exactly one job, however many relays run at once, and a failed relay changes nothing."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import text

from adapters.jobs.names import QUEUE
from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.outbox_relay import SqlAlchemyOutboxRelay
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.errors import StorageUnavailable
from domain.events import PasswordResetRequested
from tests.integration.conftest import migrated

pytestmark = pytest.mark.postgres


async def test_concurrent_relays_turn_each_entry_into_exactly_one_job(postgres_url: str) -> None:
    await migrated(postgres_url)
    engine = create_engine(postgres_url, pool_size=20)
    try:
        relays = [SqlAlchemyOutboxRelay(engine, QUEUE, batch=7) for _ in range(8)]
        for trial in range(5):
            async with SqlAlchemyUnitOfWork(engine) as uow:
                for n in range(60):
                    uow.emit(PasswordResetRequested(f"t{trial}-{n}@example.com"))
                await uow.commit()
            relayed: list[str] = []
            while len(relayed) < 60:
                rounds = await asyncio.gather(*(relay.run_once() for relay in relays))
                relayed += [kind for kinds in rounds for kind in kinds]
                assert len(relayed) <= 60
            assert set(relayed) == {"password_reset_requested"}
        async with engine.connect() as connection:
            outbox = (await connection.execute(text("SELECT count(*) FROM outbox"))).scalar()
            rows = (
                await connection.execute(
                    text("SELECT task_name, args, status::text FROM procrastinate_jobs")
                )
            ).all()
        assert outbox == 0
        assert len(rows) == 300
        assert {(task, status) for task, _, status in rows} == {
            ("password_reset_requested", "todo")
        }
        emails = [json.loads(args["payload"])["email"] for _, args, _ in rows]
        assert sorted(emails) == sorted(
            f"t{t}-{n}@example.com" for t in range(5) for n in range(60)
        )
        assert len({args["outbox_id"] for _, args, _ in rows}) == 300
    finally:
        await engine.dispose()


async def test_a_failed_relay_leaves_the_outbox_as_it_was(postgres_url: str) -> None:
    await migrated(postgres_url)
    engine = create_engine(postgres_url, pool_size=5)
    try:
        async with SqlAlchemyUnitOfWork(engine) as uow:
            uow.emit(PasswordResetRequested("ada@example.com"))
            await uow.commit()
        relay = SqlAlchemyOutboxRelay(engine, "q" * 200, batch=10)  # too long a queue name
        with pytest.raises(StorageUnavailable):
            await relay.run_once()
        async with engine.connect() as connection:
            outbox = (await connection.execute(text("SELECT count(*) FROM outbox"))).scalar()
            jobs = (
                await connection.execute(text("SELECT count(*) FROM procrastinate_jobs"))
            ).scalar()
        assert (outbox, jobs) == (1, 0)
        assert await SqlAlchemyOutboxRelay(engine, QUEUE).run_once() == ["password_reset_requested"]
    finally:
        await engine.dispose()
