"""The job queue in PostgreSQL, read and handled in SQL on Keel's own pool: the jobs that wait
or failed, a failed one retried, the failed purged, and the backlog by kind for the metrics.
The tables are procrastinate's (its schema, pinned with the library, comes with the
migrations). On Keel's pool every failure of the database is one readable error, and a
command that retries one job opens no pool of its own."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.errors import translate_errors
from application.errors import StorageUnavailable
from application.ports import JobSummary, KindBacklog

# procrastinate's words for a job's state, and the operator's.
STATUSES = {"todo": "waiting", "doing": "running", "failed": "failed"}
LISTED = 1000
CHECK_TIMEOUT_SECONDS = 2.0

_JOBS = text(
    """
    SELECT j.id, j.task_name, j.status::text, j.attempts, j.scheduled_at,
           (SELECT max(e.at) FROM procrastinate_events e WHERE e.job_id = j.id) AS changed_at
    FROM procrastinate_jobs j
    WHERE j.queue_name = :queue AND j.status::text = ANY(:statuses)
    ORDER BY j.id LIMIT :limit
    """
)
_CHECK = text("SELECT 1 FROM procrastinate_jobs LIMIT 1")
# procrastinate_retry_job_v2 is the versioned function procrastinate's own retry calls
# (schema 3.10, pinned with the library). The row is locked first, so that of two retries of
# one job the second finds it no longer failed and retries nothing.
_RETRY_FAILED = text(
    """
    SELECT procrastinate_retry_job_v2(failed.id, now(), NULL, NULL, NULL) FROM (
        SELECT id FROM procrastinate_jobs
        WHERE id = :id AND queue_name = :queue AND status = 'failed'
        FOR UPDATE
    ) failed
    """
)
_PURGE_FAILED = text(
    "DELETE FROM procrastinate_jobs WHERE queue_name = :queue AND status = 'failed'"
)
# Waiting: what the outbox still holds plus the jobs not yet run (due, or scheduled for a
# retry). The age is that of the oldest due one: since its commit, or its scheduled time.
_BACKLOG = text(
    """
    SELECT kind, sum(waiting)::bigint, max(due_age), sum(failed)::bigint FROM (
        SELECT kind, count(*) AS waiting,
               EXTRACT(EPOCH FROM now() - min(created_at)) AS due_age, 0 AS failed
        FROM outbox GROUP BY kind
      UNION ALL
        SELECT j.task_name, count(*) FILTER (WHERE j.status = 'todo'),
               EXTRACT(EPOCH FROM now() - min(COALESCE(j.scheduled_at, d.at))
                       FILTER (WHERE j.status = 'todo'
                               AND (j.scheduled_at IS NULL OR j.scheduled_at <= now()))),
               count(*) FILTER (WHERE j.status = 'failed')
        FROM procrastinate_jobs j
        LEFT JOIN LATERAL (
            SELECT min(e.at) AS at FROM procrastinate_events e
            WHERE e.job_id = j.id AND e.type = 'deferred'
        ) d ON j.scheduled_at IS NULL
        WHERE j.queue_name = :queue AND j.status IN ('todo', 'failed')
        GROUP BY j.task_name
    ) counts GROUP BY kind
    """
)


class SqlAlchemyJobQueue:
    def __init__(self, engine: AsyncEngine, queue: str) -> None:
        self._engine = engine
        self._queue = queue

    async def jobs(self, *, failed_only: bool) -> list[JobSummary]:
        statuses = ["failed"] if failed_only else list(STATUSES)
        with translate_errors():
            async with self._engine.connect() as connection:
                parameters = {"statuses": statuses, "queue": self._queue, "limit": LISTED}
                rows = (await connection.execute(_JOBS, parameters)).all()
        return [
            JobSummary(
                id=row.id,
                kind=row.task_name,
                status=STATUSES[row.status],
                attempts=row.attempts,
                scheduled_at=row.scheduled_at,
                changed_at=row.changed_at,
            )
            for row in rows
        ]

    async def retry(self, job_id: int) -> bool:
        with translate_errors():
            async with self._engine.begin() as connection:
                parameters = {"id": job_id, "queue": self._queue}
                return (await connection.execute(_RETRY_FAILED, parameters)).first() is not None

    async def purge_failed(self) -> int:
        with translate_errors():
            async with self._engine.begin() as connection:
                return (await connection.execute(_PURGE_FAILED, {"queue": self._queue})).rowcount

    async def backlog(self) -> list[KindBacklog]:
        with translate_errors():
            async with self._engine.connect() as connection:
                rows = (await connection.execute(_BACKLOG, {"queue": self._queue})).all()
        return [
            KindBacklog(
                kind=kind, waiting=waiting, oldest_due_seconds=float(age or 0), failed=failed
            )
            for kind, waiting, age, failed in rows
        ]

    async def check(self) -> None:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                with translate_errors():
                    async with self._engine.connect() as connection:
                        await connection.execute(_CHECK)
        except TimeoutError as exc:
            raise StorageUnavailable("The job queue did not answer in time") from exc
