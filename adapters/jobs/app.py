"""The procrastinate app: on PostgreSQL its queue is in Keel's database (its own pool of
psycopg connections, which LISTEN for new jobs); on SQLite it is in this process's memory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import procrastinate
from procrastinate.testing import InMemoryConnector
from sqlalchemy.engine import make_url

from adapters.jobs.tasks import (
    FailureListener,
    Handler,
    OutcomeListener,
    no_report,
    register_event_jobs,
    register_housekeeping,
)
from application.jobs import RetryPolicy

CONNECT_TIMEOUT_SECONDS = 5


def is_postgres(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "postgresql"


def libpq_url(database_url: str) -> str:
    """The asyncpg URL as libpq (psycopg) reads it: asyncpg's ``ssl`` is libpq's
    ``sslmode``."""
    url = make_url(database_url)
    query = dict(url.query)
    if "ssl" in query:
        query["sslmode"] = query.pop("ssl")
    query.setdefault("connect_timeout", str(CONNECT_TIMEOUT_SECONDS))
    url = url.set(drivername="postgresql", query=query)
    return url.render_as_string(hide_password=False)


class ProcessMemoryConnector(InMemoryConnector):
    """procrastinate's in-memory queue, kept fit for a process that runs for days: it keeps
    no log of its queries, and forgets a job's events along with the job."""

    async def generic_execute(self, query: str, suffix: Any, **arguments: Any) -> Any:
        try:
            return await super().generic_execute(query, suffix, **arguments)
        finally:
            self.queries.clear()

    async def delete_old_jobs_run(self, nb_hours: int, queue: str, statuses: Iterable[str]) -> None:
        await super().delete_old_jobs_run(nb_hours=nb_hours, queue=queue, statuses=statuses)
        for job_id in self.events.keys() - self.jobs.keys():
            del self.events[job_id]


def build_job_app(
    *,
    database_url: str,
    handlers: Mapping[type[Any], Handler],
    policies: Mapping[type[Any], RetryPolicy],
    housekeeping_cron: str,
    delete_expired: Callable[[], Awaitable[object]],
    on_outcome: OutcomeListener,
    pool_size: int,
    on_failure: FailureListener = no_report,
) -> procrastinate.App:
    connector: procrastinate.BaseConnector
    if is_postgres(database_url):
        connector = procrastinate.PsycopgConnector(
            conninfo=libpq_url(database_url), min_size=1, max_size=pool_size, timeout=10
        )
    else:
        connector = ProcessMemoryConnector()
    app = procrastinate.App(connector=connector)
    register_event_jobs(app, handlers, policies, on_outcome, on_failure)
    register_housekeeping(app, housekeeping_cron, delete_expired, on_outcome, on_failure)
    return app
