"""The job queue for operators over procrastinate's own API, when the queue lives in this
process's memory (the embedded start, the fast tests)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import procrastinate

from adapters.jobs.names import QUEUE
from application.ports import JobSummary, KindBacklog

STATUSES = {"todo": "waiting", "doing": "running", "failed": "failed"}


class InMemoryJobQueue:
    def __init__(self, app: procrastinate.App) -> None:
        self._app = app

    async def _all(self) -> list[Any]:
        return list(await self._app.job_manager.list_jobs_async(queue=QUEUE))

    async def jobs(self, *, failed_only: bool) -> list[JobSummary]:
        wanted = {"failed"} if failed_only else set(STATUSES)
        return [
            JobSummary(
                id=job.id or 0,
                kind=job.task_name,
                status=STATUSES[job.status],
                attempts=job.attempts,
                scheduled_at=job.scheduled_at,
                changed_at=None,
            )
            for job in await self._all()
            if job.status in wanted
        ]

    async def retry(self, job_id: int) -> bool:
        manager = self._app.job_manager
        if not list(await manager.list_jobs_async(id=job_id, status="failed", queue=QUEUE)):
            return False
        await manager.retry_job_by_id_async(job_id, retry_at=_now())
        return True

    async def purge_failed(self) -> int:
        failed = [job for job in await self._all() if job.status == "failed"]
        jobs: dict[int, Any] = getattr(self._app.connector, "jobs", {})
        for job in failed:
            jobs.pop(job.id or 0, None)
        return len(failed)

    async def backlog(self) -> list[KindBacklog]:
        waiting: dict[str, int] = defaultdict(int)
        failed: dict[str, int] = defaultdict(int)
        for job in await self._all():
            if job.status == "todo":
                waiting[job.task_name] += 1
            elif job.status == "failed":
                failed[job.task_name] += 1
        return [
            KindBacklog(
                kind=kind, waiting=waiting[kind], oldest_due_seconds=0.0, failed=failed[kind]
            )
            for kind in sorted(waiting.keys() | failed.keys())
        ]

    async def check(self) -> None:
        """In this process's memory: it answers while the process does."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
