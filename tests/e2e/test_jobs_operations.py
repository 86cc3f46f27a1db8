"""Operating the job queue: readiness names the queue when it cannot be read, and the metrics
count the jobs by kind and outcome and show the backlog, from `keel serve` and from
`keel worker`. A real `keel serve` (and `keel worker`) on PostgreSQL with a real SMTP
server."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import create_async_engine

from tests.e2e.cli_support import KEEL, free_port, keel_env, keel_server
from tests.e2e.http_support import assert_envelope
from tests.e2e.jobs_support import (
    UNREADABLE_RESET,
    insert_outbox_entry,
    mail_env,
    register,
    wait_until,
)
from tests.support.migrated import migrated
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.postgres

MAIL_KINDS = ("user_registered", "verification_requested")
# Long enough for the server's relay and worker to fail at least once.
OUTAGE_SECONDS = 3.0
SUBJECTS = ["Verify your email address for Keel", "Welcome to Keel"]


def start_worker(env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    with (cwd / "worker.log").open("wb") as log:
        return subprocess.Popen(
            [str(KEEL), "worker"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
        )


async def rename_table(database_url: str, old: str, new: str) -> None:
    """Behind the server's back; a lock held by a running job delays it, within bounds."""
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.text("SET LOCAL lock_timeout = '5s'"))
            await connection.execute(sa.text(f"ALTER TABLE {old} RENAME TO {new}"))
    finally:
        await engine.dispose()


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The values of one metric by their labels (sorted pairs)."""
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def job_counts(text: str) -> dict[tuple[str, str], float]:
    """keel_jobs_total by (kind, outcome)."""
    return {
        (dict(labels)["kind"], dict(labels)["outcome"]): value
        for labels, value in samples(text, "keel_jobs_total").items()
    }


def by_kind(text: str, name: str) -> dict[str, float]:
    return {dict(labels)["kind"]: value for labels, value in samples(text, name).items()}


def ran_both_mails(counts: dict[tuple[str, str], float]) -> bool:
    return all(
        counts.get((kind, outcome)) == 1.0
        for kind in MAIL_KINDS
        for outcome in ("enqueued", "succeeded")
    )


def assert_only_enqueued_and_succeeded(counts: dict[tuple[str, str], float]) -> None:
    expected = {
        (kind, outcome): 1.0 for kind in MAIL_KINDS for outcome in ("enqueued", "succeeded")
    }
    mail = {key: value for key, value in counts.items() if key[0] in MAIL_KINDS and value}
    assert mail == expected, counts


async def test_readiness_names_the_job_queue_when_its_table_is_gone_and_recovers(
    tmp_path: Path, postgres_url: str, smtp_server: SmtpServer
) -> None:
    await migrated(postgres_url)
    env = mail_env(tmp_path, postgres_url, smtp_server)
    with keel_server(env=env, cwd=tmp_path) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
            ready = await client.get("/health/ready")
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"] == {"database": "ok", "jobs": "ok", "storage": "ok"}

            await rename_table(postgres_url, "procrastinate_jobs", "jobs_away")
            try:
                unready = await client.get("/health/ready")
                error = assert_envelope(unready, 503, "SERVICE_UNAVAILABLE")
                assert error["details"] == {
                    "checks": {"database": "ok", "jobs": "unavailable", "storage": "ok"}
                }
                assert unready.headers["retry-after"] == "5"
                assert "procrastinate" not in unready.text
                # The change is committed; its mail waits in the outbox for the queue.
                await register(server.base_url, "ada@example.com")
                await asyncio.sleep(OUTAGE_SECONDS)
                assert smtp_server.received == []
            finally:
                await rename_table(postgres_url, "jobs_away", "procrastinate_jobs")

            async def ready_again() -> bool:
                return (await client.get("/health/ready")).status_code == 200

            await wait_until("ready again", ready_again, within=5)
            again = await client.get("/health/ready")
            assert again.json()["checks"] == {"database": "ok", "jobs": "ok", "storage": "ok"}

        # The jobs the server runs itself came through the outage: the waiting ones run,
        # and so do new ones.
        received = await asyncio.to_thread(smtp_server.wait_for, 2, 20.0)
        assert sorted(mail.message["Subject"] for mail in received) == SUBJECTS
        await register(server.base_url, "grace@example.com")
        received = await asyncio.to_thread(smtp_server.wait_for, 4, 20.0)
        assert sorted(mail.rcpt_tos[0] for mail in received) == [
            "ada@example.com",
            "ada@example.com",
            "grace@example.com",
            "grace@example.com",
        ]


async def test_the_metrics_count_the_jobs_the_server_runs_by_kind_and_outcome(
    tmp_path: Path, postgres_url: str, smtp_server: SmtpServer
) -> None:
    await migrated(postgres_url)
    env = mail_env(tmp_path, postgres_url, smtp_server)
    with keel_server(env=env, cwd=tmp_path) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
            before = job_counts((await client.get("/metrics")).text)
            assert not [key for key, value in before.items() if key[0] in MAIL_KINDS and value]

            await register(server.base_url, "ada@example.com")
            await asyncio.to_thread(smtp_server.wait_for, 2, 15.0)

            # A job counts as succeeded once its handler has returned, just after the send.
            async def counted() -> dict[tuple[str, str], float]:
                return job_counts((await client.get("/metrics")).text)

            counts = await wait_until("both jobs counted", counted, ran_both_mails)
            assert_only_enqueued_and_succeeded(counts)
            text = (await client.get("/metrics")).text
            for name in ("keel_jobs_waiting", "keel_jobs_failed_kept"):
                assert {by_kind(text, name)[kind] for kind in MAIL_KINDS} == {0.0}, name


async def test_the_metrics_count_retried_and_failed_jobs_and_the_failed_kept(
    tmp_path: Path, postgres_url: str
) -> None:
    """Mail to a server that refuses connections is tried again later; a job that cannot be
    read fails at once and is kept."""
    await migrated(postgres_url)
    env = keel_env(
        tmp_path, postgres_url, SMTP_HOST="127.0.0.1", SMTP_PORT=str(free_port()), SMTP_TLS="none"
    )
    with keel_server(env=env, cwd=tmp_path) as server:
        await register(server.base_url, "ada@example.com")
        await insert_outbox_entry(postgres_url, "password_reset_requested", UNREADABLE_RESET)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:

            async def scraped() -> str:
                return (await client.get("/metrics")).text

            # The counter moves as the job fails, the gauge once the queue has stored that.
            def settled(text: str) -> bool:
                counts = job_counts(text)
                kept = by_kind(text, "keel_jobs_failed_kept").get("password_reset_requested")
                return (
                    all(counts.get((kind, "retried")) == 1.0 for kind in MAIL_KINDS)
                    and counts.get(("password_reset_requested", "failed")) == 1.0
                    and kept == 1.0
                )

            text = await wait_until("a retry of each mail and one failure", scraped, settled)
    counts = job_counts(text)
    for kind in MAIL_KINDS:
        assert counts.get((kind, "succeeded"), 0.0) == 0.0, counts
        assert counts.get((kind, "failed"), 0.0) == 0.0, counts
        # Waiting for the next try, which is not due yet.
        assert by_kind(text, "keel_jobs_waiting")[kind] == 1.0, text
        assert by_kind(text, "keel_jobs_oldest_due_seconds")[kind] == 0.0, text
        assert by_kind(text, "keel_jobs_failed_kept")[kind] == 0.0, text
    assert by_kind(text, "keel_jobs_failed_kept")["password_reset_requested"] == 1.0, text
    assert by_kind(text, "keel_jobs_waiting")["password_reset_requested"] == 0.0, text


async def test_the_metrics_show_the_waiting_jobs_and_the_age_of_the_oldest(
    tmp_path: Path, postgres_url: str
) -> None:
    await migrated(postgres_url)
    env = keel_env(tmp_path, postgres_url, JOBS_IN_PROCESS="false")
    with keel_server(env=env, cwd=tmp_path) as server:
        await register(server.base_url, "ada@example.com")
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
            first = (await client.get("/metrics")).text
            await asyncio.sleep(1.0)
            second = (await client.get("/metrics")).text

    for kind in MAIL_KINDS:
        assert by_kind(first, "keel_jobs_waiting")[kind] == 1.0, first
        assert by_kind(second, "keel_jobs_waiting")[kind] == 1.0, second
        age, later = (
            by_kind(text, "keel_jobs_oldest_due_seconds")[kind] for text in (first, second)
        )
        assert 0.0 < age < 10.0, first
        assert later - age >= 0.9, (age, later)
    assert by_kind(first, "keel_jobs_waiting")["password_reset_requested"] == 0.0
    # Nobody relayed or ran anything.
    assert {key: value for key, value in job_counts(second).items() if value} == {}


async def test_keel_worker_serves_its_job_counts_on_its_metrics_port(
    tmp_path: Path, postgres_url: str, smtp_server: SmtpServer
) -> None:
    await migrated(postgres_url)
    env = mail_env(tmp_path, postgres_url, smtp_server)
    port = free_port()
    with keel_server(env=env | {"JOBS_IN_PROCESS": "false"}, cwd=tmp_path) as server:
        await register(server.base_url, "ada@example.com")
        worker = start_worker(env | {"WORKER_METRICS_PORT": str(port)}, tmp_path)
        try:
            received = await asyncio.to_thread(smtp_server.wait_for, 2, 20.0)
            assert sorted(mail.message["Subject"] for mail in received) == SUBJECTS

            async def counted() -> dict[tuple[str, str], float]:
                async with httpx.AsyncClient(timeout=5) as client:
                    scraped = await client.get(f"http://127.0.0.1:{port}/metrics")
                return job_counts(scraped.text)

            counts = await wait_until("the worker's counts", counted, ran_both_mails)
            assert_only_enqueued_and_succeeded(counts)
            # The server ran none of them: its counters stay at nothing.
            async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
                served = job_counts((await client.get("/metrics")).text)
            assert {key: value for key, value in served.items() if value} == {}
        finally:
            worker.send_signal(signal.SIGTERM)
            code = await asyncio.to_thread(worker.wait, 15)
    assert code == 0, (tmp_path / "worker.log").read_text()
