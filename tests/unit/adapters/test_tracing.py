"""The spans written by hand (a job's run, a mail's delivery) and the ``traceparent`` an
outbox entry carries, on a tracer of the test's own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from adapters import tracing

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


@pytest.fixture
def exporter(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    monkeypatch.setattr(tracing, "_tracer", provider.get_tracer("keel"))
    yield exported
    provider.shutdown()


def test_with_tracing_off_a_span_is_none_and_there_is_no_context(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tracing, "_tracer", None)
    with tracing.span("job x", {"keel.job.kind": "x"}) as span:
        assert span is None
    assert tracing.current_traceparent() is None


def test_a_job_span_is_the_child_of_the_request_whose_traceparent_it_carries(
    exporter: InMemorySpanExporter,
) -> None:
    carried = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"
    with tracing.span("job x", {"keel.job.kind": "x"}, kind="CONSUMER", traceparent=carried):
        inner = tracing.current_traceparent()
    [span] = exporter.get_finished_spans()
    assert span.kind == SpanKind.CONSUMER
    assert span.context is not None
    assert span.parent is not None
    assert format(span.context.trace_id, "032x") == CALLER_TRACE
    assert format(span.parent.span_id, "016x") == CALLER_SPAN
    assert inner == f"00-{CALLER_TRACE}-{format(span.context.span_id, '016x')}-01"


def test_a_failure_is_recorded_by_its_class_never_its_message(
    exporter: InMemorySpanExporter,
) -> None:
    with pytest.raises(ConnectionError), tracing.span("smtp send", {"keel.mail.kind": "reset"}):
        raise ConnectionError("535 auth failed for ada@example.com with password hunter2")
    [span] = exporter.get_finished_spans()
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes is not None
    assert span.attributes["error.type"] == "ConnectionError"
    recorded = repr(dict(span.attributes)) + repr(span.status.description) + repr(span.events)
    assert "hunter2" not in recorded
    assert "ada@example.com" not in recorded
