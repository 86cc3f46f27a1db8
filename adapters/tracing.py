"""Spans written by hand where no instrumentation package exists (a mail's delivery, a
job's run), and the trace context an outbox entry carries from the request that made it
to the job that handles it (W3C ``traceparent``).

Nothing of OpenTelemetry is imported until ``enable()``: with tracing off, a span here is
a ``None`` and a context is never read."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

_tracer: Any = None  # an OpenTelemetry tracer, once tracing is on


def enable() -> None:
    global _tracer
    from opentelemetry import trace

    _tracer = trace.get_tracer("keel")


def current_traceparent() -> str | None:
    """The current span's context as a ``traceparent`` header value, or ``None``."""
    if _tracer is None:
        return None
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    return carrier.get("traceparent")


@contextmanager
def span(
    name: str,
    attributes: Mapping[str, str | int],
    *,
    kind: str = "INTERNAL",
    traceparent: str | None = None,
) -> Iterator[Any]:
    """A span around the block, the child of the span whose ``traceparent`` is given (a
    job's request) or else of the current one; ``None`` when tracing is off. An exception
    leaving the block is recorded with its class, and the span marked as failed."""
    if _tracer is None:
        yield None
        return
    from opentelemetry.trace import SpanKind, Status, StatusCode
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    parent = None
    if traceparent:
        parent = TraceContextTextMapPropagator().extract({"traceparent": traceparent})
    # The exception's class only: its text may hold what was sent (an address, a reply).
    with _tracer.start_as_current_span(
        name,
        context=parent,
        kind=SpanKind[kind],
        attributes=dict(attributes),
        record_exception=False,
        set_status_on_exception=False,
    ) as current:
        try:
            yield current
        except BaseException as exc:
            current.set_attribute("error.type", type(exc).__name__)
            current.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise
