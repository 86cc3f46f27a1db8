"""The relay on PostgreSQL: committed outbox entries become jobs of the queue, whose table
is in the same database. One statement in one transaction takes the entries out of the
outbox and defers them: an entry is either still in the outbox or a job, never both and never
neither."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.errors import translate_errors

BATCH = 100

# procrastinate_defer_jobs_v1 is the versioned function procrastinate's own defer calls
# (schema 3.10, pinned with the library). The payload goes in as a JSON string, so that an
# entry this code cannot read fails as its job, not here.
_RELAY = text(
    """
    WITH picked AS (
        SELECT id FROM outbox ORDER BY created_at, id LIMIT :limit FOR UPDATE SKIP LOCKED
    ), gone AS (
        DELETE FROM outbox USING picked WHERE outbox.id = picked.id
        RETURNING outbox.id, outbox.kind, outbox.payload, outbox.created_at, outbox.traceparent
    ), deferred AS (
        SELECT procrastinate_defer_jobs_v1(ARRAY(
            SELECT ROW(
                CAST(:queue AS varchar), gone.kind, 0, NULL, NULL,
                jsonb_build_object(
                    'payload', gone.payload, 'outbox_id', gone.id::text,
                    'traceparent', gone.traceparent
                ),
                NULL
            )::procrastinate_job_to_defer_v1
            FROM gone ORDER BY gone.created_at, gone.id
        )) AS ids
    )
    SELECT gone.kind FROM gone, deferred
    """
)


class SqlAlchemyOutboxRelay:
    def __init__(self, engine: AsyncEngine, queue: str, batch: int = BATCH) -> None:
        self._engine = engine
        self._queue = queue
        self.batch = batch

    async def run_once(self) -> list[str]:
        """Relay up to a batch; the kinds relayed."""
        with translate_errors():
            async with self._engine.begin() as connection:
                parameters = {"limit": self.batch, "queue": self._queue}
                return list((await connection.execute(_RELAY, parameters)).scalars())
