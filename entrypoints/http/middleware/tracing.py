"""The request's span: FastAPI's own OpenTelemetry tracing, named by the route template.

FastAPI starts the span before its router runs, named by the method alone, and renames it
``GET /api/v1/items/{item_id}`` once the router has found the route: never by the raw path
(which holds ids). Its attributes leave out the query string, which may hold a token
(``entrypoints.container.tracing.queryless``).

The sampler decides before any of that runs (``SamplingGate``, in front of FastAPI): a
request it drops skips FastAPI's telemetry, and the statements and Redis commands under it
skip their instrumentations, so that at 10 % sampling nine requests in ten cost next to
nothing. A dropped request still has a trace id (flagged not sampled), which its log lines
and the jobs it causes carry."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from entrypoints.container.tracing import drawn_trace_id
from entrypoints.http.middleware.access_log import KNOWN_METHODS

if TYPE_CHECKING:
    from fastapi.telemetry import TelemetryConfig

# FastAPI's own mark of a request it is not to trace: it skips its telemetry for a scope
# that has the key (its ``exclude`` hook sets it to None, as does the gate).
FASTAPI_TELEMETRY = "fastapi.telemetry"

# With tracing off: no span, no metric, no log record of FastAPI's own.
UNTRACED: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def request_telemetry(tracer_provider: Any) -> TelemetryConfig:
    """FastAPI's telemetry settings for a traced process: request spans on the SDK's
    ``tracer_provider``; no spans for dependencies or serialisation, no metrics (Keel's are
    Prometheus'), no log records."""
    return {
        "tracing": True,
        "tracer_provider": tracer_provider,
        "metrics": False,
        "logs": False,
        "operation_spans": False,
    }


class GatedFastAPI(FastAPI):
    """FastAPI, with the sampling gate (when tracing is on) in front of its own telemetry."""

    sampling_gate: SamplingGate | None = None

    def trace_requests(self, tracer_provider: Any = None) -> None:
        """Trace this app's requests on the SDK's provider (the process's own when not
        given), which must be the one its ``telemetry`` settings name."""
        from opentelemetry import trace

        provider = tracer_provider or trace.get_tracer_provider()
        self.sampling_gate = SamplingGate(getattr(provider, "sampler", None))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gate = self.sampling_gate
        if gate is None or scope["type"] != "http":  # a WebSocket: FastAPI and the SDK's sampler
            await super().__call__(scope, receive, send)
            return
        await gate(scope, receive, send, super().__call__)


class SamplingGate:
    """Asks the configured sampler about a request before FastAPI would start its span.
    Kept: FastAPI traces it, its span given the trace id the sampler kept. Dropped: FastAPI
    leaves it alone, and it runs under a non-recording span (a fresh trace id, or the
    caller's, flagged not sampled) with the instrumentations suppressed."""

    def __init__(self, sampler: Any) -> None:
        from opentelemetry import context, trace
        from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY, Context
        from opentelemetry.propagate import extract
        from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags

        self._sampler = sampler
        self._trace = trace
        self._extract = extract
        self._non_recording = NonRecordingSpan
        self._span_context = SpanContext
        self._server = SpanKind.SERVER
        self._not_sampled = TraceFlags(TraceFlags.DEFAULT)
        self._attach, self._detach = context.attach, context.detach
        self._set_value, self._suppress_key = context.set_value, _SUPPRESS_INSTRUMENTATION_KEY
        # Built once: a dropped request only adds its own span to it.
        self._suppressed = context.set_value(_SUPPRESS_INSTRUMENTATION_KEY, True, Context())

    async def __call__(self, scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> None:
        if self._sampler is None:
            await app(scope, receive, send)
            return
        parent = self._caller_context(scope)
        trace_id = random.getrandbits(128) or 1
        kept = self._sampler.should_sample(parent, trace_id, _method(scope), self._server)
        if kept.decision.is_recording():
            drawn = drawn_trace_id.set(trace_id)
            try:
                await app(scope, receive, send)
            finally:
                drawn_trace_id.reset(drawn)
            return
        scope[FASTAPI_TELEMETRY] = None
        trace_state, base = None, self._suppressed
        if parent is not None:  # the caller's trace, and its baggage
            caller = self._trace.get_current_span(parent).get_span_context()
            if caller.is_valid:
                trace_id, trace_state = caller.trace_id, caller.trace_state
            base = self._set_value(self._suppress_key, True, parent)
        span = self._non_recording(
            self._span_context(
                trace_id=trace_id,
                span_id=random.getrandbits(64) or 1,
                is_remote=False,
                trace_flags=self._not_sampled,
                trace_state=trace_state,
            )
        )
        token = self._attach(self._trace.set_span_in_context(span, base))
        try:
            await app(scope, receive, send)
        finally:
            self._detach(token)
            scope.pop(FASTAPI_TELEMETRY, None)

    def _caller_context(self, scope: Scope) -> Any:
        """The caller's trace context from its ``traceparent`` header, if it sent one."""
        for name, _value in scope.get("headers", ()):
            if name == b"traceparent":
                return self._extract(_HeaderCarrier(scope))
        return None


class _HeaderCarrier(dict[str, str]):
    def __init__(self, scope: Scope) -> None:
        super().__init__(
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in scope.get("headers", ())
            if name in (b"traceparent", b"tracestate")
        )


def _method(scope: Scope) -> str:
    # A client must not be able to mint span names.
    method = scope.get("method", "")
    return method if method in KNOWN_METHODS else "HTTP"
