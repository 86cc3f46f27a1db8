from __future__ import annotations

from prometheus_client import generate_latest

from application.outbox import KINDS
from entrypoints.metrics import JOB_OUTCOMES, Metrics


def _sample(metrics: Metrics, name: str, labels: dict[str, str]) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_every_known_kind_has_its_outcome_counters_at_zero_before_the_first_job() -> None:
    metrics = Metrics()
    kind = next(iter(KINDS))
    assert _sample(metrics, "keel_jobs_total", {"kind": kind, "outcome": "failed"}) is None

    metrics.job_kinds(KINDS)

    for outcome in JOB_OUTCOMES:
        assert _sample(metrics, "keel_jobs_total", {"kind": kind, "outcome": outcome}) == 0.0
    metrics.job_outcome(kind, "failed")
    assert _sample(metrics, "keel_jobs_total", {"kind": kind, "outcome": "failed"}) == 1.0


def test_a_backlog_report_makes_the_counters_of_kinds_only_it_names() -> None:
    metrics = Metrics()
    metrics.job_backlog([], ["mail.welcome.test"])
    text = generate_latest(metrics.registry).decode()
    assert 'keel_jobs_total{kind="mail.welcome.test",outcome="failed"} 0.0' in text
    assert 'keel_jobs_waiting{kind="mail.welcome.test"} 0.0' in text
