"""Running background jobs by hand in the fast tests, over procrastinate's in-memory queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from entrypoints.container import Container


async def run_due_jobs(container: Container) -> None:
    """Hand the outbox to the queue and run every job that is due, then return."""
    await container.job_runner().drain()


def queued_jobs(container: Container) -> list[dict[str, Any]]:
    """The in-memory queue's rows: status, attempts, scheduled_at, task_name, args."""
    return list(container.job_app().connector.jobs.values())  # type: ignore[attr-defined]


def make_waiting_jobs_due(container: Container) -> None:
    """As if the pause before each job's next try had passed."""
    for job in queued_jobs(container):
        if job["status"] == "todo" and job["scheduled_at"] is not None:
            job["scheduled_at"] = datetime.now(UTC) - timedelta(seconds=1)
