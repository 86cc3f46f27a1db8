"""Retrying a failed job on PostgreSQL (`keel jobs retry`): of several operators retrying one
job at once, exactly one retries it and the others are told there is no failed job of that
id, never a database error."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from adapters.jobs.names import QUEUE
from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.job_queue import SqlAlchemyJobQueue
from adapters.sqlalchemy.outbox_relay import SqlAlchemyOutboxRelay
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from domain.events import PasswordResetRequested
from tests.integration.conftest import migrated

pytestmark = pytest.mark.postgres

TRIALS = 20
RETRIES_AT_ONCE = 6


async def test_of_concurrent_retries_of_a_failed_job_exactly_one_retries_it(
    postgres_url: str,
) -> None:
    await migrated(postgres_url)
    engine = create_engine(postgres_url, pool_size=RETRIES_AT_ONCE + 2)
    try:
        async with SqlAlchemyUnitOfWork(engine) as uow:
            for n in range(TRIALS):
                uow.emit(PasswordResetRequested(f"user-{n}@example.com"))
            await uow.commit()
        assert len(await SqlAlchemyOutboxRelay(engine, QUEUE).run_once()) == TRIALS
        async with engine.begin() as connection:
            # As a worker leaves them: taken, then out of attempts.
            for status in ("doing", "failed"):
                await connection.execute(text(f"UPDATE procrastinate_jobs SET status = '{status}'"))
            ids = (await connection.execute(text("SELECT id FROM procrastinate_jobs"))).scalars()
            job_ids = sorted(ids)
        assert len(job_ids) == TRIALS

        queues = [SqlAlchemyJobQueue(engine, QUEUE) for _ in range(RETRIES_AT_ONCE)]
        for job_id in job_ids:
            answers = await asyncio.gather(*(queue.retry(job_id) for queue in queues))
            assert sorted(answers) == [False] * (RETRIES_AT_ONCE - 1) + [True], job_id

        async with engine.connect() as connection:
            jobs = (
                await connection.execute(
                    text("SELECT status::text, attempts FROM procrastinate_jobs")
                )
            ).all()
            retried_events = (
                await connection.execute(
                    text("SELECT count(*) FROM procrastinate_events WHERE type = 'retried'")
                )
            ).scalar_one()
        assert {(status, attempts) for status, attempts in jobs} == {("todo", 1)}
        assert retried_events == TRIALS
        assert await queues[0].jobs(failed_only=True) == []
    finally:
        await engine.dispose()
