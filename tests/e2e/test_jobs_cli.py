"""`keel jobs` end to end: a job that cannot be read fails at once and is kept; an operator
sees it with `keel jobs list`, repairs it, runs it again with `keel jobs retry`, or deletes
the failed ones with `keel jobs purge --failed`. The real `keel` command against the queue
of a real `keel serve` on PostgreSQL, which runs the jobs in its own process."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.cli_support import (
    assert_error,
    assert_ok,
    describe,
    keel_env,
    keel_server,
    run_keel,
    sqlite_url_for,
)
from tests.e2e.jobs_support import (
    UNREADABLE_RESET,
    failed_jobs,
    insert_outbox_entry,
    jobs,
    mail_env,
    register,
    wait_until,
)
from tests.support.migrated import migrated
from tests.support.smtp import SmtpServer
from tests.support.sql import execute, rows

pytestmark = pytest.mark.postgres

RESET_SUBJECT = "Reset your Keel password"
UNREACHABLE_PASSWORD = "hunter2-unreachable"
UNREACHABLE_POSTGRES = f"postgresql+asyncpg://u:{UNREACHABLE_PASSWORD}@127.0.0.1:1/x"
COMMANDS = (["list"], ["list", "--failed"], ["retry", "1"], ["purge", "--failed"])


def listed(result: subprocess.CompletedProcess[str]) -> list[list[str]]:
    """`keel jobs list` output: one job a line, its fields separated by tabs (id, state,
    kind, attempts, when it last changed), and the count on standard error."""
    assert_ok(result)
    lines = [line.split("\t") for line in result.stdout.splitlines()]
    assert result.stderr.strip() == f"{len(lines)} job(s)", describe(result)
    for fields in lines:
        assert len(fields) == 5, describe(result)
        job_id, _, _, attempts, stamp = fields
        assert job_id.isdigit(), describe(result)
        name, _, count = attempts.partition("=")
        assert name == "attempts", describe(result)
        assert count.isdigit(), describe(result)
        # The timestamp is the time of the last change: in the past few minutes, with a zone.
        when = datetime.fromisoformat(stamp)
        assert when.tzinfo is not None, describe(result)
        assert abs(datetime.now(UTC) - when) < timedelta(minutes=5), describe(result)
    return lines


async def test_a_failed_job_is_listed_repaired_and_retried_until_its_mail_arrives(
    tmp_path: Path, postgres_url: str, smtp_server: SmtpServer
) -> None:
    await migrated(postgres_url)
    env = mail_env(tmp_path, postgres_url, smtp_server)
    with keel_server(env=env, cwd=tmp_path) as server:
        await register(server.base_url, "ada@example.com")
        smtp_server.wait_for(2, 15.0)  # welcome and verification: the queue works
        smtp_server.clear()

        await insert_outbox_entry(postgres_url, "password_reset_requested", UNREADABLE_RESET)
        [(job_id, _, _)] = await failed_jobs(postgres_url, 1)

        failed = listed(run_keel(["jobs", "list", "--failed"], env=env, cwd=tmp_path))
        # Unreadable: failed on its first attempt, never tried again.
        assert [fields[:4] for fields in failed] == [
            [str(job_id), "failed", "password_reset_requested", "attempts=1"]
        ]
        everything = listed(run_keel(["jobs", "list"], env=env, cwd=tmp_path))
        assert [str(job_id), "failed", "password_reset_requested"] in [
            fields[:3] for fields in everything
        ]
        assert smtp_server.received == []

        repaired = json.dumps({"email": "ada@example.com"})
        await execute(
            postgres_url,
            "UPDATE procrastinate_jobs "
            "SET args = jsonb_set(args, '{payload}', to_jsonb(CAST(:payload AS text))) "
            "WHERE id = :id",
            payload=repaired,
            id=job_id,
        )
        retried = run_keel(["jobs", "retry", str(job_id)], env=env, cwd=tmp_path)
        assert_ok(retried)
        assert retried.stdout.strip() == f"job {job_id} will be tried again", describe(retried)

        [mail] = smtp_server.wait_for(1, 15.0)
        assert mail.message["Subject"] == RESET_SUBJECT
        assert mail.rcpt_tos == ["ada@example.com"]

        async def succeeded() -> bool:
            return (job_id, "succeeded", "password_reset_requested") in await jobs(postgres_url)

        await wait_until("the retried job succeeded", succeeded)
        assert listed(run_keel(["jobs", "list", "--failed"], env=env, cwd=tmp_path)) == []
        # Done is done: a job that is not failed is not retried again.
        again = run_keel(["jobs", "retry", str(job_id)], env=env, cwd=tmp_path)
        assert_error(again, f"no failed job has id {job_id}")
    assert len(smtp_server.received) == 1


async def test_retry_and_purge_refuse_what_they_cannot_do_and_purge_deletes_the_failed(
    tmp_path: Path, postgres_url: str, smtp_server: SmtpServer
) -> None:
    await migrated(postgres_url)
    env = mail_env(tmp_path, postgres_url, smtp_server)
    with keel_server(env=env, cwd=tmp_path):
        for _ in range(3):
            await insert_outbox_entry(postgres_url, "password_reset_requested", UNREADABLE_RESET)
        failed = await failed_jobs(postgres_url, 3)
    kind = "password_reset_requested"

    # Nobody runs jobs now: a retried one waits, and only the other two are failed.
    waiting, *others = (job_id for job_id, _, _ in failed)
    assert_ok(run_keel(["jobs", "retry", str(waiting)], env=env, cwd=tmp_path))
    everything = listed(run_keel(["jobs", "list"], env=env, cwd=tmp_path))
    assert [fields[:3] for fields in everything] == [
        [str(waiting), "waiting", kind],
        *([str(job_id), "failed", kind] for job_id in others),
    ]
    only_failed = listed(run_keel(["jobs", "list", "--failed"], env=env, cwd=tmp_path))
    assert [fields[:3] for fields in only_failed] == [
        [str(job_id), "failed", kind] for job_id in others
    ]

    for not_failed in (waiting, max(failed)[0] + 1000):
        assert_error(
            run_keel(["jobs", "retry", str(not_failed)], env=env, cwd=tmp_path),
            f"no failed job has id {not_failed}",
        )
    for bad in ("abc", "0", "-1", str(2**63)):
        refused = run_keel(["jobs", "retry", bad], env=env, cwd=tmp_path)
        assert refused.returncode == 2, describe(refused)
        assert "Traceback" not in refused.stdout + refused.stderr, describe(refused)

    states = (
        "SELECT status::text, count(*) FROM procrastinate_jobs WHERE task_name = :kind GROUP BY 1"
    )
    assert dict(await rows(postgres_url, states, kind=kind)) == {"todo": 1, "failed": 2}
    unsaid = run_keel(["jobs", "purge"], env=env, cwd=tmp_path)
    assert_error(unsaid, "--failed", code=2)
    assert dict(await rows(postgres_url, states, kind=kind)) == {"todo": 1, "failed": 2}

    purged = run_keel(["jobs", "purge", "--failed"], env=env, cwd=tmp_path)
    assert_ok(purged)
    assert purged.stdout.strip() == "deleted 2 failed job(s)", describe(purged)
    # The failed are gone; the waiting one is not the purge's to delete.
    assert dict(await rows(postgres_url, states, kind=kind)) == {"todo": 1}
    assert [job_id for job_id, _, _ in await jobs(postgres_url) if job_id in others] == []

    nothing = run_keel(["jobs", "purge", "--failed"], env=env, cwd=tmp_path)
    assert_ok(nothing)
    assert nothing.stdout.strip() == "deleted 0 failed job(s)", describe(nothing)


def test_the_job_commands_on_sqlite_say_the_jobs_are_in_the_serving_process(
    tmp_path: Path,
) -> None:
    env = keel_env(tmp_path, sqlite_url_for(tmp_path / "keel.db"))
    for args in COMMANDS:
        result = run_keel(["jobs", *args], env=env, cwd=tmp_path)
        assert_error(result, "PostgreSQL", "keel serve")


def test_the_job_commands_say_in_one_line_when_the_queue_cannot_be_read(
    tmp_path: Path, postgres_url: str
) -> None:
    """No traceback and no long wait, whichever command: an empty database needs migrating,
    one that refuses connections is unavailable (and its password is not shown)."""
    empty = keel_env(tmp_path, postgres_url)
    for args in COMMANDS:
        assert_error(run_keel(["jobs", *args], env=empty, cwd=tmp_path), "keel migrate")

    unreachable = keel_env(tmp_path, UNREACHABLE_POSTGRES)
    for args in COMMANDS:
        started = time.monotonic()
        result = run_keel(["jobs", *args], env=unreachable, cwd=tmp_path)
        line = assert_error(result, "unavailable")
        assert UNREACHABLE_PASSWORD not in line
        assert time.monotonic() - started < 10, describe(result)
