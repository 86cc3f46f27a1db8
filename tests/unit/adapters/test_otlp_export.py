"""The lean OTLP encoding says exactly what the SDK's encoder says, span for span."""

from __future__ import annotations

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
    set_span_in_context,
)

from adapters.otlp_export import SpanEncoder


def _spans() -> tuple[ReadableSpan, ...]:
    exported = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "keel"}))
    provider.add_span_processor(SimpleSpanProcessor(exported))
    http = provider.get_tracer("asgi", "1.0", schema_url="https://opentelemetry.io/schemas/1.11.0")
    db = provider.get_tracer("asyncpg")
    caller = SpanContext(
        0x4BF92F3577B34DA6A3CE929D0E0E4736,
        0x00F067AA0BA902B7,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
        trace_state=TraceState([("vendor", "x1"), ("other", "y")]),
    )
    remote = set_span_in_context(NonRecordingSpan(caller))
    for round_no in range(3):  # the second and third use what the cache holds
        attributes = {
            "http.method": "GET",
            "net.host.port": 8000,
            "flag": True,
            "one": 1,
            "ratio": 1.0,
            "tags": ("a", "b"),
            "counts": (1, 2),
            "text": "é ünïcode",
        }
        with http.start_as_current_span(
            "GET /api/v1/users/me", context=remote, kind=SpanKind.SERVER, attributes=attributes
        ) as request:
            request.set_attribute("round", round_no)
            with db.start_as_current_span("SELECT", kind=SpanKind.CLIENT) as statement:
                statement.set_status(Status(StatusCode.ERROR, "UniqueViolationError"))
            with db.start_as_current_span("BEGIN") as event_span:
                event_span.add_event("retry", {"attempt": 2})
            with db.start_as_current_span("COMMIT") as ok_span:
                ok_span.set_status(Status(StatusCode.OK))
        with http.start_as_current_span("GET", context=None):  # a root span, no parent
            pass
    return exported.get_finished_spans()


def test_the_lean_encoding_decodes_to_what_the_sdk_encodes() -> None:
    spans = _spans()
    encoder = SpanEncoder()
    for _ in range(2):
        ours = ExportTraceServiceRequest.FromString(encoder.encode(spans))
        sdk = ExportTraceServiceRequest.FromString(encode_spans(spans).SerializePartialToString())
        assert ours == sdk
    assert len(ours.resource_spans[0].scope_spans) == 2
    assert sum(len(scope.spans) for scope in ours.resource_spans[0].scope_spans) == len(spans)


def test_an_empty_batch_is_an_empty_request() -> None:
    assert SpanEncoder().encode(()) == b""
