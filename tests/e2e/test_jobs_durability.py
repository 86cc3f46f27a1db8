"""Mail is never lost, on PostgreSQL with real processes: a worker killed with SIGKILL in
the middle of a job has the job run by another, a mail server down for a minute delays the
mail and loses none, and a registration whose transaction fails leaves no job."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.cli_support import PASSWORD, keel_server
from tests.e2e.test_worker import VERIFY, WELCOME, smtp_env, start_worker
from tests.support.migrated import migrated
from tests.support.smtp import SmtpServer
from tests.support.sql import rows

pytestmark = pytest.mark.postgres

RESET = "Reset your Keel password"


async def register(base_url: str, email: str) -> int:
    async with httpx.AsyncClient(base_url=base_url, timeout=20) as client:
        answer = await client.post("/api/v1/users", json={"email": email, "password": PASSWORD})
        return answer.status_code


async def test_a_job_whose_worker_is_killed_mid_way_is_run_by_another(
    tmp_path: Path, postgres_url: str
) -> None:
    await migrated(postgres_url)
    smtp = SmtpServer()
    smtp.start()
    try:
        smtp.hold(60)  # the first worker is in the middle of its jobs while the server waits
        env = smtp_env(tmp_path, postgres_url, smtp, SMTP_TIMEOUT_SECONDS="90")
        with keel_server(env=env | {"JOBS_IN_PROCESS": "false"}, cwd=tmp_path) as server:
            assert await register(server.base_url, "ada@example.com") == 201
            first = start_worker(env, tmp_path, "first")
            await asyncio.to_thread(smtp.wait_until_held, 1, 20.0)
            first.send_signal(signal.SIGKILL)
            assert first.wait(10) == -signal.SIGKILL
            smtp.hold(0)
            killed = time.monotonic()
            second = start_worker(env, tmp_path, "second")
            try:
                await asyncio.to_thread(smtp.wait_for, 2, 60.0)
                rerun_after = time.monotonic() - killed
                await asyncio.sleep(2.0)
            finally:
                second.send_signal(signal.SIGTERM)
                assert second.wait(15) == 0, (tmp_path / "second.log").read_text()
    finally:
        smtp.stop()
    assert sorted(r.message["Subject"] for r in smtp.received) == [VERIFY, WELCOME]
    assert rerun_after < 30  # handed back once the killed worker's heartbeat is 15 s old
    jobs = await rows(
        postgres_url,
        "SELECT status::text, attempts FROM procrastinate_jobs "
        "WHERE task_name <> 'housekeeping' ORDER BY attempts",
    )
    assert {status for status, _ in jobs} == {"succeeded"}
    assert jobs[-1][1] >= 1  # the killed one was handed back, an attempt later


async def test_a_mail_server_down_for_a_minute_delays_the_mail_and_loses_none(
    tmp_path: Path, postgres_url: str
) -> None:
    await migrated(postgres_url)
    smtp = SmtpServer()  # its port is chosen, nothing listens there yet
    env = smtp_env(tmp_path, postgres_url, smtp)
    try:
        with keel_server(env=env, cwd=tmp_path) as server:  # jobs run in the server itself
            assert await register(server.base_url, "ada@example.com") == 201
            async with httpx.AsyncClient(base_url=server.base_url, timeout=20) as client:
                answer = await client.post(
                    "/api/v1/auth/password-reset/request", json={"email": "ada@example.com"}
                )
                assert answer.status_code == 202
            await asyncio.sleep(60.0)
            failed_meanwhile = await rows(
                postgres_url, "SELECT min(attempts) FROM procrastinate_jobs WHERE status = 'todo'"
            )
            smtp.start()
            back = time.monotonic()
            await asyncio.to_thread(smtp.wait_for, 3, 60.0)
            delay_after_outage = time.monotonic() - back
            await asyncio.sleep(1.0)
    finally:
        smtp.stop()
    assert failed_meanwhile[0][0] >= 2  # tried and failed at least twice during the outage
    assert sorted(r.message["Subject"] for r in smtp.received) == [RESET, VERIFY, WELCOME]
    assert delay_after_outage < 45
    assert await rows(
        postgres_url,
        "SELECT DISTINCT status::text FROM procrastinate_jobs WHERE task_name <> 'housekeeping'",
    ) == [("succeeded",)]


async def test_a_registration_whose_transaction_fails_leaves_no_job(
    tmp_path: Path, postgres_url: str, smtp_server: SmtpServer
) -> None:
    """Ten registrations of one address at once: one commits, the others' inserts fail and
    take their recorded mails with them. Five rounds."""
    await migrated(postgres_url)
    env = smtp_env(tmp_path, postgres_url, smtp_server)
    with keel_server(env=env | {"JOBS_IN_PROCESS": "false"}, cwd=tmp_path) as server:
        for trial in range(5):
            answers = await asyncio.gather(
                *(register(server.base_url, f"same-{trial}@example.com") for _ in range(10))
            )
            assert sorted(answers) == [201] + [409] * 9
    kinds = await rows(postgres_url, "SELECT kind, count(*) FROM outbox GROUP BY kind ORDER BY 1")
    assert kinds == [("user_registered", 5), ("verification_requested", 5)]
