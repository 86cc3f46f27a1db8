"""`keel worker` end to end, on PostgreSQL: the API records the mail a change causes, with the
change, and separate worker processes send it; several workers share the jobs and never run
one twice; the housekeeping runs once per tick however many workers there are; a worker
stopped with SIGTERM exits 0."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from domain.one_time_token import TokenPurpose
from tests.e2e.cli_support import KEEL, PASSWORD, keel_env, keel_server
from tests.e2e.jobs_support import mail_env
from tests.support.builders import a_session, a_token, a_user
from tests.support.migrated import migrated
from tests.support.smtp import SmtpServer
from tests.support.sql import rows

pytestmark = pytest.mark.postgres

WELCOME, VERIFY = "Welcome to Keel", "Verify your email address for Keel"


def start_worker(
    env: Mapping[str, str], cwd: Path, name: str = "worker", concurrency: int = 2
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(KEEL), "worker", "--concurrency", str(concurrency)],
        stdin=subprocess.DEVNULL,
        stdout=(cwd / f"{name}.log").open("wb"),
        stderr=subprocess.STDOUT,
        env=dict(env),
        cwd=cwd,
    )


@contextmanager
def workers(env: Mapping[str, str], cwd: Path, count: int) -> Iterator[None]:
    """``count`` workers; on the way out each gets SIGTERM and must exit 0 within 12 s."""
    started = [start_worker(env, cwd, f"worker-{n}") for n in range(count)]
    try:
        yield
    finally:
        for process in started:
            process.send_signal(signal.SIGTERM)
        began = time.monotonic()
        codes = [process.wait(15) for process in started]
        logs = [(cwd / f"worker-{n}.log").read_text() for n in range(count)]
        assert codes == [0] * count, logs
        assert time.monotonic() - began < 12


def smtp_env(tmp_path: Path, url: str, smtp: SmtpServer, **extra: str) -> dict[str, str]:
    """The test mail server's, with registrations not limited."""
    return mail_env(tmp_path, url, smtp, REGISTRATION_RATE_LIMIT="1000/hour", **extra)


async def test_the_mail_a_registration_causes_is_sent_by_a_worker(
    tmp_path: Path, postgres_url: str, smtp_server: SmtpServer
) -> None:
    await migrated(postgres_url)
    env = smtp_env(tmp_path, postgres_url, smtp_server)
    with keel_server(env=env | {"JOBS_IN_PROCESS": "false"}, cwd=tmp_path) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=20) as client:
            created = await client.post(
                "/api/v1/users", json={"email": "ada@example.com", "password": PASSWORD}
            )
            assert created.status_code == 201, created.text
        await asyncio.sleep(1.0)
        assert smtp_server.received == []  # nobody runs the jobs yet; they wait
        with workers(env, tmp_path, 1):
            received = await asyncio.to_thread(smtp_server.wait_for, 2, 20.0)
            subjects = sorted(r.message["Subject"] for r in received)
            assert subjects == [VERIFY, WELCOME]
            assert all(r.rcpt_tos == ["ada@example.com"] for r in received)


async def test_two_workers_share_the_jobs_and_never_run_one_twice(
    tmp_path: Path, postgres_url: str, smtp_server: SmtpServer
) -> None:
    """Each job's handler sends one mail: the mail server's inbox is the record of its runs."""
    await migrated(postgres_url)
    env = smtp_env(tmp_path, postgres_url, smtp_server)
    addresses = [f"user-{n}@example.com" for n in range(30)]
    with keel_server(env=env | {"JOBS_IN_PROCESS": "false"}, cwd=tmp_path) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
            for batch in range(0, len(addresses), 6):
                answers = await asyncio.gather(
                    *(
                        client.post("/api/v1/users", json={"email": a, "password": PASSWORD})
                        for a in addresses[batch : batch + 6]
                    )
                )
                assert [a.status_code for a in answers] == [201] * len(answers)
        with workers(env, tmp_path, 2):
            await asyncio.to_thread(smtp_server.wait_for, 60, 60.0)
            await asyncio.sleep(2.0)  # a second run of any job would arrive by now
    runs = Counter((r.rcpt_tos[0], r.message["Subject"]) for r in smtp_server.received)
    assert runs == Counter({(a, s): 1 for a in addresses for s in (WELCOME, VERIFY)})
    jobs = await rows(
        postgres_url,
        "SELECT status::text, count(*), count(DISTINCT args->>'outbox_id') "
        "FROM procrastinate_jobs WHERE task_name <> 'housekeeping' GROUP BY status",
    )
    assert jobs == [("succeeded", 60, 60)]
    assert await rows(postgres_url, "SELECT count(*) FROM outbox") == [(0,)]


async def test_housekeeping_runs_once_per_tick_across_workers_and_deletes_what_expired(
    tmp_path: Path, postgres_url: str
) -> None:
    await migrated(postgres_url)
    live, expired = await seed_sessions_and_tokens(postgres_url)
    env = keel_env(tmp_path, postgres_url, HOUSEKEEPING_CRON="* * * * * */2")  # every 2 s
    with workers(env, tmp_path, 2):
        await asyncio.sleep(7.0)
    assert await rows(postgres_url, "SELECT count(*) FROM refresh_sessions") == [(live,)]
    assert await rows(postgres_url, "SELECT count(*) FROM one_time_tokens") == [(live,)]
    ticks = await rows(
        postgres_url,
        "SELECT args->>'timestamp', count(*), min(status::text) FROM procrastinate_jobs "
        "WHERE task_name = 'housekeeping' GROUP BY 1",
    )
    assert len(ticks) >= 2
    assert {(count, status) for _, count, status in ticks} == {(1, "succeeded")}
    assert expired > 0


async def seed_sessions_and_tokens(url: str) -> tuple[int, int]:
    """Sessions and tokens of one user: three expired (one of them spent), two live."""
    now = datetime.now(UTC)
    user = a_user(now=now)
    engine = create_engine(url, pool_size=2)
    try:
        async with SqlAlchemyUnitOfWork(engine) as uow:
            await uow.users.add(user)
            for n, hours in enumerate([-3, -2, -1, 1, 2]):
                created = now - timedelta(days=1)
                expires_at = now + timedelta(hours=hours)
                session = a_session(
                    user, now=created, expires_at=expires_at, token_hash=f"{n:064d}"
                )
                assert await uow.sessions.start(
                    session, sessions_valid_after=user.sessions_valid_after
                )
                if n == 0:
                    assert await uow.sessions.spend(session.id, created)
                await uow.one_time_tokens.add(
                    a_token(
                        user,
                        purpose=TokenPurpose.PASSWORD_RESET,
                        now=created,
                        expires_at=expires_at,
                        token_hash=f"{n + 10:064d}",
                    )
                )
            await uow.commit()
    finally:
        await engine.dispose()
    return 2, 3
