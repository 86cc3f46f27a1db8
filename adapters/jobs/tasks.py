"""The kinds of job as procrastinate tasks: one per kind of event, each tried again by its
policy, and the housekeeping that runs on a schedule."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import procrastinate
from procrastinate import JobContext
from procrastinate.jobs import Job
from procrastinate.retry import BaseRetryStrategy, RetryDecision

from adapters import tracing
from adapters.jobs.names import HOUSEKEEPING, QUEUE
from application.jobs import HOUSEKEEPING_RETRIES, RetryPolicy, running_job
from application.outbox import KINDS, decode

logger = logging.getLogger("keel.jobs")
# Finished jobs stay listed for a day (``keel jobs list``); failed ones until purged.
FINISHED_JOBS_KEPT_HOURS = 24

Handler = Callable[[Any], Awaitable[None]]
# Told of each job's outcome: (kind, "succeeded" | "retried" | "failed").
OutcomeListener = Callable[[str, str], None]
# Told of each job that failed for good, with its exception: (kind, attempt, exception).
FailureListener = Callable[[str, int, BaseException], None]


def no_report(_kind: str, _attempt: int, _exc: BaseException) -> None:
    """Without error reporting, the log line and the failed-jobs counter tell of it."""


class UnreadableJob(Exception):
    """A job this code cannot read (from another version, or altered by hand): trying it
    again cannot help."""


class PolicyRetry(BaseRetryStrategy):
    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        if isinstance(exception, UnreadableJob):
            return None
        pause = self._policy.pause_after(job.attempts + 1)
        if pause is None:
            return None
        return RetryDecision(retry_at=datetime.now(UTC) + pause)


def register_event_jobs(
    app: procrastinate.App,
    handlers: Mapping[type[Any], Handler],
    policies: Mapping[type[Any], RetryPolicy],
    on_outcome: OutcomeListener,
    on_failure: FailureListener = no_report,
) -> None:
    """A task per kind of event; its arguments are the outbox entry's id and payload, and
    the trace context of the request that made it (``None`` when it was not traced)."""
    for kind, event_type in KINDS.items():
        policy = policies[event_type]
        job = _event_job(kind, handlers[event_type], policy, on_outcome, on_failure)
        app.task(name=kind, queue=QUEUE, pass_context=True, retry=PolicyRetry(policy))(job)


def register_housekeeping(
    app: procrastinate.App,
    cron: str,
    delete_expired: Callable[[], Awaitable[object]],
    on_outcome: OutcomeListener,
    on_failure: FailureListener = no_report,
) -> None:
    """Once per ``cron`` tick across all workers (procrastinate defers each tick once)."""

    async def housekeeping(context: JobContext, timestamp: int) -> None:
        async def work() -> None:
            await delete_expired()
            await app.job_manager.delete_old_jobs(nb_hours=FINISHED_JOBS_KEPT_HOURS, queue=QUEUE)

        await _observed(HOUSEKEEPING, context, HOUSEKEEPING_RETRIES, on_outcome, on_failure, work)

    task = app.task(
        name=HOUSEKEEPING,
        queue=QUEUE,
        pass_context=True,
        retry=PolicyRetry(HOUSEKEEPING_RETRIES),
    )(housekeeping)
    app.periodic(cron=cron, periodic_id=HOUSEKEEPING)(task)


def _event_job(
    kind: str,
    handler: Handler,
    policy: RetryPolicy,
    on_outcome: OutcomeListener,
    on_failure: FailureListener,
) -> Callable[..., Awaitable[None]]:
    async def run(
        context: JobContext, payload: str, outbox_id: str, traceparent: str | None = None
    ) -> None:
        try:
            event = decode(kind, payload)
            outbox_id = str(uuid.UUID(outbox_id))
        except (KeyError, ValueError, TypeError) as exc:
            on_outcome(kind, "failed")
            logger.error("background job unreadable", extra={"kind": kind, "error": repr(exc)})
            on_failure(kind, context.job.attempts + 1, exc)
            raise UnreadableJob(repr(exc)) from exc
        token = running_job.set(outbox_id)
        try:
            await _observed(
                kind, context, policy, on_outcome, on_failure, lambda: handler(event), traceparent
            )
        finally:
            running_job.reset(token)

    run.__name__ = run.__qualname__ = f"run_{kind}"
    return run


async def _observed(
    kind: str,
    context: JobContext,
    policy: RetryPolicy,
    on_outcome: OutcomeListener,
    on_failure: FailureListener,
    work: Callable[[], Awaitable[object]],
    traceparent: str | None = None,
) -> None:
    """Run ``work`` as one attempt of the job: its outcome counted and logged, and traced
    as a span in the trace of the request that caused the job."""
    attempt = context.job.attempts + 1
    attributes: dict[str, str | int] = {"keel.job.kind": kind, "keel.job.attempt": attempt}
    with tracing.span(f"job {kind}", attributes, kind="CONSUMER", traceparent=traceparent) as span:
        try:
            await work()
        except Exception as exc:  # any failure is tried again by the policy
            final = policy.pause_after(attempt) is None
            outcome = "failed" if final else "retried"
            if span is not None:
                span.set_attribute("keel.job.outcome", outcome)
            on_outcome(kind, outcome)
            log = logger.error if final else logger.warning
            log(
                "background job failed",
                extra={"kind": kind, "attempt": attempt, "final": final, "error": repr(exc)},
            )
            if final:
                on_failure(kind, attempt, exc)
            raise
        if span is not None:
            span.set_attribute("keel.job.outcome", "succeeded")
    on_outcome(kind, "succeeded")
