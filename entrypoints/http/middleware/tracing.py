"""The request's span (OpenTelemetry's ASGI middleware), named by the route template.

The router finds the route only after the span has begun: it starts as the method alone and
is renamed ``GET /api/v1/items/{item_id}`` once the request is answered, never by the raw
path (which holds ids). Its URL attributes leave out the query string, which may hold a
token.

The sampler decides before any of that runs (``SamplingGate``): a request it drops skips the
ASGI middleware, and the statements and Redis commands under it skip their instrumentations,
so that at 10 % sampling nine requests in ten cost next to nothing. A dropped request still
has a trace id (flagged not sampled), which its log lines and the jobs it causes carry."""

from __future__ import annotations

import random
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.container.tracing import drawn_trace_id, no_metrics
from entrypoints.http.middleware.access_log import KNOWN_METHODS


def request_span_middleware(app: ASGIApp, tracer_provider: Any = None) -> ASGIApp:
    """``tracer_provider``: the SDK's provider (the process's own when not given)."""
    from opentelemetry import trace
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    provider = tracer_provider or trace.get_tracer_provider()
    traced = OpenTelemetryMiddleware(
        RouteNameMiddleware(app),
        default_span_details=_method_only,
        server_request_hook=_without_query,
        exclude_spans=["receive", "send"],
        tracer_provider=provider,
        meter_provider=no_metrics(),
    )
    return SamplingGate(app, traced, getattr(provider, "sampler", None))


class SamplingGate:
    """Asks the configured sampler about the request first. Kept: the request goes through
    OpenTelemetry's middleware, its span given the trace id the sampler kept. Dropped: it
    goes straight to the app under a non-recording span (a fresh trace id, or the caller's,
    flagged not sampled) with the instrumentations suppressed."""

    def __init__(self, app: ASGIApp, traced: ASGIApp, sampler: Any) -> None:
        from opentelemetry import context, trace
        from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY, Context
        from opentelemetry.propagate import extract
        from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags

        self.app = app
        self.traced = traced
        self._trace = trace
        self._extract = extract
        self._non_recording = NonRecordingSpan
        self._span_context = SpanContext
        self._server = SpanKind.SERVER
        self._not_sampled = TraceFlags(TraceFlags.DEFAULT)
        self._sampler = sampler
        self._attach, self._detach = context.attach, context.detach
        self._set_value, self._suppress_key = context.set_value, _SUPPRESS_INSTRUMENTATION_KEY
        # Built once: a dropped request only adds its own span to it.
        self._suppressed = context.set_value(_SUPPRESS_INSTRUMENTATION_KEY, True, Context())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._sampler is None:
            await self.traced(scope, receive, send)
            return
        parent = self._caller_context(scope)
        trace_id = random.getrandbits(128) or 1
        kept = self._sampler.should_sample(parent, trace_id, _method(scope), self._server)
        if kept.decision.is_recording():
            drawn = drawn_trace_id.set(trace_id)
            try:
                await self.traced(scope, receive, send)
            finally:
                drawn_trace_id.reset(drawn)
            return
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
            await self.app(scope, receive, send)
        finally:
            self._detach(token)

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


class RouteNameMiddleware:
    """Names the request's span once the router has found the route: when the answer
    starts, as the span ends with the answer's last part."""

    def __init__(self, app: ASGIApp) -> None:
        from opentelemetry.trace import get_current_span

        self.app = app
        self._current_span = get_current_span

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def naming_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                route = getattr(scope.get("route"), "path", None)
                if route is not None:
                    span = self._current_span()
                    span.update_name(f"{_method(scope)} {route}")
                    span.set_attribute("http.route", route)
            await send(message)

        await self.app(scope, receive, naming_send)


def _method(scope: Scope) -> str:
    # A client must not be able to mint span names.
    method = scope.get("method", "")
    return method if method in KNOWN_METHODS else "HTTP"


def _method_only(scope: Scope) -> tuple[str, dict[str, Any]]:
    return _method(scope), {}


def _without_query(span: Any, scope: Scope) -> None:
    if span.is_recording():
        path = scope.get("path", "")
        span.set_attribute("http.target", path)
        span.set_attribute("url.path", path)
        server = scope.get("server")
        if server:
            host = f"{server[0]}:{server[1]}" if server[1] else server[0]
            span.set_attribute("http.url", f"{scope.get('scheme', 'http')}://{host}{path}")
