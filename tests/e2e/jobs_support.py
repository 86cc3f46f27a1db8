"""Helpers for the job-queue tests against a real `keel serve` and the real `keel` command on
PostgreSQL: the environment with the test mail server, a registration, outbox entries
written behind the app's back, and bounded waits on what the queue holds."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import httpx

from tests.e2e.cli_support import PASSWORD, keel_env
from tests.support.smtp import SmtpServer
from tests.support.sql import execute, rows

# A reset request this code cannot read: the field is ``email``.
UNREADABLE_RESET = '{"mail": "x"}'
WAIT_SECONDS = 15.0
T = TypeVar("T")


def mail_env(tmp_path: Path, database_url: str, smtp: SmtpServer, **extra: str) -> dict[str, str]:
    return keel_env(
        tmp_path,
        database_url,
        SMTP_HOST=smtp.host,
        SMTP_PORT=str(smtp.port),
        SMTP_TLS="none",
        **extra,
    )


async def register(base_url: str, email: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=20) as client:
        created = await client.post("/api/v1/users", json={"email": email, "password": PASSWORD})
    assert created.status_code == 201, created.text


async def insert_outbox_entry(database_url: str, kind: str, payload: str) -> None:
    """An entry as a use case's commit writes it, here by hand."""
    await execute(
        database_url,
        "INSERT INTO outbox (id, kind, payload, created_at) VALUES (:id, :kind, :payload, now())",
        id=uuid.uuid4(),
        kind=kind,
        payload=payload,
    )


async def jobs(database_url: str) -> list[tuple[int, str, str]]:
    """The queue's jobs as (id, status, task name), oldest first."""
    found = await rows(
        database_url,
        "SELECT id, status::text, task_name FROM procrastinate_jobs ORDER BY id",
    )
    return [(int(job_id), str(status), str(kind)) for job_id, status, kind in found]


async def wait_until(
    what: str,
    check: Callable[[], Awaitable[T]],
    until: Callable[[T], bool] = bool,
    within: float = WAIT_SECONDS,
) -> T:
    """Poll ``check`` until ``until`` holds for what it returns (by default: until that is
    truthy); fail naming ``what``, and showing the last value, after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if until(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {within} s (last: {result!r})")
        await asyncio.sleep(0.2)


async def failed_jobs(database_url: str, count: int) -> list[tuple[int, str, str]]:
    """Wait until ``count`` jobs have failed; those jobs."""

    async def failed() -> list[tuple[int, str, str]]:
        found = [job for job in await jobs(database_url) if job[1] == "failed"]
        return found if len(found) >= count else []

    found = await wait_until(f"{count} failed job(s)", failed)
    assert len(found) == count, found
    return found
