"""`keel worker` runs the background jobs; `keel jobs` shows and handles those that ran out
of attempts."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from entrypoints.cli.errors import fail, readable_errors
from entrypoints.cli.key_check import refuse_without_needed_key

if TYPE_CHECKING:
    from application.ports import JobQueue, JobSummary
    from entrypoints.container import Container
    from entrypoints.settings import Settings

T = TypeVar("T")
JOB_ID_MAX = 2**63 - 1  # the queue's ids are PostgreSQL bigints

jobs_cli = typer.Typer(
    help="See and handle background jobs: waiting, running, and failed (out of attempts).",
    no_args_is_help=True,
)


def worker(
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Jobs run at the same time")] = 1,
) -> None:
    """Run the background jobs (mail, clean-up) until SIGTERM or Ctrl-C: the jobs in hand
    are finished first (for up to 10 s; what is cut off is tried again). Any number of
    workers, on any number of machines, share one database; no job runs on two at once."""
    from entrypoints.container import build_container
    from entrypoints.container.tracing import configure_tracing
    from entrypoints.error_reporting import start_error_reporting
    from entrypoints.logs import configure_logging
    from entrypoints.settings import load_settings

    with readable_errors():
        settings = load_settings()
        configure_logging(settings.log_level, settings.effective_log_format)
        start_error_reporting(settings)
        configure_tracing()
        refuse_without_needed_key(settings)
        container = build_container(settings)
        if settings.worker_metrics_port is not None:
            container.metrics().serve(settings.worker_metrics_port)
        asyncio.run(_run_worker(container, concurrency))


async def _run_worker(container: Container, concurrency: int) -> None:
    from entrypoints.container import shutdown_container
    from entrypoints.container.tracing import flush_traces

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    runner = container.job_runner(concurrency=concurrency)
    runner.start()
    typer.echo(f"keel worker running {concurrency} job(s) at a time", err=True)
    try:
        await stop.wait()
    finally:
        await runner.stop()
        await shutdown_container(container)
        flush_traces()


@jobs_cli.command("list")
def list_jobs(
    failed: Annotated[bool, typer.Option("--failed", help="Only those out of attempts")] = False,
) -> None:
    """The jobs waiting, running and failed (oldest first, at most 1,000), one per line:
    id, state, kind, attempts, when it last changed or is next tried."""
    jobs = _with_queue(lambda queue: queue.jobs(failed_only=failed))
    for job in jobs:
        typer.echo(_line(job))
    typer.echo(f"{len(jobs)} job(s)", err=True)


@jobs_cli.command("retry")
def retry_job(
    job_id: Annotated[int, typer.Argument(metavar="ID", min=1, max=JOB_ID_MAX)],
) -> None:
    """Try a failed job again now."""
    if not _with_queue(lambda queue: queue.retry(job_id)):
        raise fail(f"no failed job has id {job_id} (see `keel jobs list --failed`)")
    typer.echo(f"job {job_id} will be tried again")


@jobs_cli.command("purge")
def purge_jobs(
    failed: Annotated[bool, typer.Option("--failed", help="Delete the failed jobs")] = False,
) -> None:
    """Delete the failed jobs (`--failed`, required: nothing else is ever purged by hand)."""
    if not failed:
        raise fail("say what to purge: keel jobs purge --failed", 2)
    deleted = _with_queue(lambda queue: queue.purge_failed())
    typer.echo(f"deleted {deleted} failed job(s)")


def _with_queue(work: Callable[[JobQueue], Awaitable[T]]) -> T:
    from entrypoints.container import build_container
    from entrypoints.settings import load_settings

    with readable_errors():
        settings = load_settings()
        _needs_postgres(settings)
        container = build_container(settings)
        return asyncio.run(_closing(container, work(container.job_queue())))


async def _closing(container: Container, work: Awaitable[T]) -> T:
    from entrypoints.container import shutdown_container

    try:
        return await work
    finally:
        await shutdown_container(container)


def _needs_postgres(settings: Settings) -> None:
    if not settings.uses_postgres:
        raise fail(
            "jobs are kept in PostgreSQL; on SQLite they live in the memory of the "
            "`keel serve` process that runs them"
        )


def _line(job: JobSummary) -> str:
    when = job.scheduled_at if job.status == "waiting" and job.scheduled_at else job.changed_at
    stamp = when.isoformat(timespec="seconds") if when else "-"
    return f"{job.id}\t{job.status}\t{job.kind}\tattempts={job.attempts}\t{stamp}"
