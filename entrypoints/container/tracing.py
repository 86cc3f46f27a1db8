"""OpenTelemetry, set up once per process (each serving worker, each job worker) from the
standard variables: an OTLP endpoint turns it on, ``OTEL_SDK_DISABLED`` off. With it off,
nothing of OpenTelemetry is imported.

What is traced: each request (its span named by the route template), each SQL statement
(SQLAlchemy's and asyncpg's instrumentations), each Redis command, each mail's delivery and
each job's run (``adapters/tracing.py``); a job's span is a child of the request that made
it, whose context the outbox entry carries."""

from __future__ import annotations

import contextvars
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

DEFAULT_SERVICE_NAME = "keel"
_ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")

_provider: Any = None  # the SDK's tracer provider, once set up
# The attribute FastAPI gives a request's span for its query string.
QUERY_ATTRIBUTE = "url.query"

# The trace id the HTTP sampling gate drew for a request it keeps, handed to the SDK's id
# generator so that the request's span gets the very id the sampler said yes to.
drawn_trace_id: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "keel_drawn_trace_id", default=None
)


def tracing_wanted(environ: dict[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(env.get(name, "").strip() for name in _ENDPOINTS)


def tracing_enabled() -> bool:
    return _provider is not None


def tracer_provider() -> Any:
    """The SDK's tracer provider this process set up (``None`` with tracing off)."""
    return _provider


def configure_tracing() -> bool:
    """Set up tracing in this process if the environment asks for it; whether it is on.
    The sampler (``OTEL_TRACES_SAMPLER``, ``OTEL_TRACES_SAMPLER_ARG``: parent-based, always
    on by default), the exporter's endpoint and the batch processor's timing are the SDK's
    own variables."""
    global _provider
    if _provider is not None or not tracing_wanted():
        return _provider is not None
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from adapters import tracing
    from adapters.sqlalchemy.driver import trace_driver_statements
    from entrypoints.logs import log_trace_ids

    provider = new_tracer_provider()  # flushed at exit too
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _provider = provider
    tracing.enable()
    trace_driver_statements()
    RedisInstrumentor().instrument(tracer_provider=provider)
    log_trace_ids(_span_ids_reader())
    return True


def new_tracer_provider(sampler: Any = None) -> Any:
    """The SDK's tracer provider as Keel sets it up, without a span processor: ``sampler``
    (the environment's when not given) leaving query strings out, the gate's trace ids."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    named = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": DEFAULT_SERVICE_NAME}
    provider = TracerProvider(
        sampler=sampler,
        resource=hashed_once(Resource.create(named)),
        id_generator=gate_id_generator(),
    )
    # Before any tracer copies it.
    provider.sampler = queryless(provider.sampler)
    return provider


def queryless(sampler: Any) -> Any:
    """``sampler``, with the query string left out of the attributes of the spans it keeps:
    a request's query may hold a token (``/verify-email?token=``). The SDK gives a span the
    attributes its sampler returns."""
    from opentelemetry.sdk.trace.sampling import Sampler, SamplingResult

    class QuerylessSampler(Sampler):
        def should_sample(
            self,
            parent_context: Any,
            trace_id: int,
            name: str,
            kind: Any = None,
            attributes: Mapping[str, Any] | None = None,
            links: Sequence[Any] | None = None,
            trace_state: Any = None,
        ) -> SamplingResult:
            if attributes and QUERY_ATTRIBUTE in attributes:
                attributes = {k: v for k, v in attributes.items() if k != QUERY_ATTRIBUTE}
            return sampler.should_sample(  # type: ignore[no-any-return]
                parent_context, trace_id, name, kind, attributes, links, trace_state
            )

        def get_description(self) -> str:
            return f"Queryless{{{sampler.get_description()}}}"

    return QuerylessSampler()


def gate_id_generator() -> Any:
    """The SDK's random ids, but for a request's root span the trace id the gate drew."""
    from opentelemetry.sdk.trace.id_generator import RandomIdGenerator

    class GateIdGenerator(RandomIdGenerator):
        def generate_trace_id(self) -> int:
            drawn = drawn_trace_id.get()
            if drawn is not None:
                drawn_trace_id.set(None)  # one root span per request
                return drawn
            return int(super().generate_trace_id())

    return GateIdGenerator()


def hashed_once(resource: Any) -> Any:
    """The same resource, its hash worked out once. The exporter groups every span of a
    batch by its resource, and the SDK's hash writes the resource's attributes out as JSON
    each time: about a fifth of the encoding of a request's span. The attributes cannot
    change after creation, so neither can the hash."""
    from opentelemetry.sdk.resources import Resource

    class HashedOnceResource(Resource):
        def __init__(self, attributes: Any, schema_url: str | None) -> None:
            super().__init__(attributes, schema_url)
            self._hash = super().__hash__()

        def __hash__(self) -> int:
            return self._hash

    return HashedOnceResource(resource.attributes, resource.schema_url)


def instrument_engine(engine: AsyncEngine) -> None:
    """A span per statement SQLAlchemy runs on ``engine`` (its synchronous core, which
    the asynchronous engine drives)."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
    from sqlalchemy import event

    # The package declares SQLAlchemy below 2.1 and would refuse 2.1 without a word; the
    # engine events it listens to are unchanged in 2.1 (tests/e2e/test_tracing.py holds it).
    tracer = SQLAlchemyInstrumentor().instrument(
        engine=engine.sync_engine,
        tracer_provider=_provider,
        enable_commenter=False,
        skip_dep_check=True,
        meter_provider=no_metrics(),
    )
    # Its pool listeners only count connections in use for OpenTelemetry's metrics, which
    # Keel does not export (the pool's figures are in /metrics): four calls a request saved.
    # Listeners looked up by name: a later version that renames them keeps them, no worse.
    for name, attribute in _POOL_LISTENERS.items() if tracer is not None else ():
        listener = getattr(tracer, attribute, None)
        if listener is not None and event.contains(engine.sync_engine, name, listener):
            event.remove(engine.sync_engine, name, listener)


_POOL_LISTENERS = {
    "connect": "_pool_connect",
    "close": "_pool_close",
    "checkin": "_pool_checkin",
    "checkout": "_pool_checkout",
}


def no_metrics() -> Any:
    """For the SQLAlchemy instrumentation's own metric (the pool's connections in use),
    which Keel does not export (its metrics are Prometheus'): without it, it would be
    recorded on OpenTelemetry's global meter for nothing, on every checkout and return."""
    from opentelemetry.metrics import NoOpMeterProvider

    return NoOpMeterProvider()


def flush_traces() -> None:
    """Export the spans still waiting in the batch (at the end of a process)."""
    if _provider is not None:
        _provider.force_flush()


def _span_ids_reader() -> Callable[[], tuple[str, str] | None]:
    """The current span's trace and span ids in hex, as a log line carries them."""
    from opentelemetry.trace import get_current_span

    def current_span_ids() -> tuple[str, str] | None:
        context = get_current_span().get_span_context()
        if not context.is_valid:
            return None
        return f"{context.trace_id:032x}", f"{context.span_id:016x}"

    return current_span_ids
