"""Prometheus metrics. With several workers each process writes its values to files in
``PROMETHEUS_MULTIPROC_DIR`` (``keel serve --workers N`` sets one up) and a scrape of any
worker adds them all up."""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)

from application.ports import KindBacklog

MULTIPROCESS_DIR_VARIABLES = ("PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def multiprocess_dir() -> str | None:
    for name in MULTIPROCESS_DIR_VARIABLES:
        if os.environ.get(name):
            return os.environ[name]
    return None


JOB_OUTCOMES = ("enqueued", "succeeded", "retried", "failed")


class Metrics:
    """Every metric Keel exports, registered in a registry of its own so that several apps
    in one process (tests) do not share counts."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ("method", "route", "status")
        self.requests = Counter(
            "keel_http_requests",
            "HTTP requests answered, by method, route template and status.",
            labels,
            registry=self.registry,
        )
        self.latency = Histogram(
            "keel_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status.",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "keel_http_requests_in_flight",
            "HTTP requests being answered now.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.pool_in_use = Gauge(
            "keel_db_pool_connections_in_use",
            "Database connections checked out of the pool now.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        # The pool's capacity beside its use, so that an alert on saturation follows the
        # settings rather than a number written into the rule.
        self.pool_max = Gauge(
            "keel_db_pool_connections_max",
            "Database connections the pool may hold: its size plus its overflow.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.ready = Gauge(
            "keel_ready",
            "1 when the last readiness probe found the check passing, 0 when it failed.",
            ("check",),
            registry=self.registry,
            multiprocess_mode="livemostrecent",
        )
        self.login_failures = Counter(
            "keel_login_failures",
            "Logins refused for a wrong email or password or an inactive account.",
            registry=self.registry,
        )
        self.login_throttled = Counter(
            "keel_login_throttled",
            "Logins refused because of too many failures (429).",
            registry=self.registry,
        )
        self.live_sockets = Gauge(
            "keel_live_sockets",
            "Live-event WebSockets open now (authenticated).",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.live_events_sent = Counter(
            "keel_live_events_sent",
            "Item events sent to live-event WebSockets.",
            registry=self.registry,
        )
        self.live_dropped_slow = Counter(
            "keel_live_clients_dropped_slow",
            "Live-event WebSockets closed because the client read too slowly to keep up.",
            registry=self.registry,
        )

        job_labels = ("kind",)
        self.jobs = Counter(
            "keel_jobs",
            "Background jobs by kind and outcome: enqueued (moved from the outbox into the "
            "queue), succeeded, retried (failed, tried again later), failed (out of attempts).",
            ("kind", "outcome"),
            registry=self.registry,
        )
        self.jobs_waiting = Gauge(
            "keel_jobs_waiting",
            "Background jobs not yet run, by kind: in the outbox, due, or waiting for a retry.",
            job_labels,
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.jobs_oldest_due = Gauge(
            "keel_jobs_oldest_due_seconds",
            "Age of the oldest background job that is due and not yet run, by kind.",
            job_labels,
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.jobs_failed_kept = Gauge(
            "keel_jobs_failed_kept",
            "Background jobs that ran out of attempts and are kept for an operator, by kind.",
            job_labels,
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )

    def readiness(self, check: str, ok: bool) -> None:
        self.ready.labels(check).set(1 if ok else 0)

    def job_kinds(self, kinds: Iterable[str]) -> None:
        """Each kind's outcome counters, made at zero: a counter whose first sample is
        already 1 shows no increase, and an alert on failed jobs would miss the first."""
        for kind in kinds:
            for outcome in JOB_OUTCOMES:
                self.jobs.labels(kind, outcome)

    def job_outcome(self, kind: str, outcome: str) -> None:
        self.jobs.labels(kind, outcome).inc()

    def job_backlog(self, backlog: Iterable[KindBacklog], kinds: Iterable[str]) -> None:
        """Every known kind is set, to zero when nothing of it waits."""
        by_kind = {entry.kind: entry for entry in backlog}
        every_kind = {*kinds, *by_kind}
        self.job_kinds(every_kind)
        for kind in every_kind:
            entry = by_kind.get(kind) or KindBacklog(kind, 0, 0.0, 0)
            self.jobs_waiting.labels(kind).set(entry.waiting)
            self.jobs_oldest_due.labels(kind).set(entry.oldest_due_seconds)
            self.jobs_failed_kept.labels(kind).set(entry.failed)

    def serve(self, port: int) -> None:
        """This process's metrics over HTTP on ``port`` (``keel worker``, which has no API)."""
        start_http_server(port, registry=self.registry)

    def exposition(self) -> bytes:
        """The Prometheus text of this process, or of every worker in multiprocess mode."""
        if multiprocess_dir() is None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)

    def close(self) -> None:
        """At a worker's exit: its live gauges stop counting towards the sum."""
        if multiprocess_dir() is not None:
            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
