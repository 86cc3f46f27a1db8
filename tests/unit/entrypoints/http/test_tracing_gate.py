"""The request's span (FastAPI's own telemetry) and the sampling gate in front of it, on a
tracer provider of the test's own, set up as Keel sets up the process's (which stays
untouched): a kept request gets one span named by its route template and the trace id the
sampler kept; a dropped one reaches the app with a trace id flagged not sampled and the
instrumentations suppressed, and exports nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI, Request
from opentelemetry import trace
from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased, Sampler, TraceIdRatioBased

from entrypoints.container.tracing import new_tracer_provider
from entrypoints.http.middleware.tracing import GatedFastAPI, request_telemetry

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


@dataclass
class Seen:
    trace_id: int = 0
    sampled: bool = False
    instrumented: bool = False
    fastapi_traced: bool = False  # FastAPI's own telemetry ran for the request


@dataclass
class Traced:
    client: httpx.AsyncClient
    exporter: InMemorySpanExporter
    seen: Seen


def app_seeing(seen: Seen, provider: object) -> FastAPI:
    app = GatedFastAPI(telemetry=request_telemetry(provider))
    app.trace_requests(provider)

    @app.get("/items/{item_id}")
    async def item(item_id: str, request: Request) -> dict[str, str]:
        context = trace.get_current_span().get_span_context()
        seen.trace_id, seen.sampled = context.trace_id, context.trace_flags.sampled
        seen.instrumented = is_instrumentation_enabled()
        seen.fastapi_traced = request.scope.get("fastapi.telemetry") is not None
        return {"id": item_id}

    return app


@pytest.fixture
def traced(request: pytest.FixtureRequest) -> Iterator[Traced]:
    sampler: Sampler = getattr(request, "param", ParentBased(ALWAYS_ON))  # the SDK default
    exporter = InMemorySpanExporter()
    provider = new_tracer_provider(sampler)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    seen = Seen()
    app = app_seeing(seen, provider)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    yield Traced(client, exporter, seen)
    provider.shutdown()


DROP_ALL = ParentBased(TraceIdRatioBased(0.0))


async def test_a_kept_request_is_one_span_named_by_its_route_with_the_kept_trace_id(
    traced: Traced,
) -> None:
    answer = await traced.client.get("/items/42?token=hunter2")
    assert answer.status_code == 200
    [span] = traced.exporter.get_finished_spans()
    assert span.name == "GET /items/{item_id}"
    assert span.kind == trace.SpanKind.SERVER
    assert span.attributes is not None
    assert span.attributes["http.route"] == "/items/{item_id}"
    assert span.context is not None
    assert span.context.trace_id == traced.seen.trace_id
    assert traced.seen.sampled
    assert traced.seen.instrumented
    assert traced.seen.fastapi_traced
    assert "hunter2" not in repr(dict(span.attributes))
    assert "42" not in span.name


@pytest.mark.parametrize("traced", [DROP_ALL], indirect=True)
async def test_a_dropped_request_exports_nothing_and_suppresses_the_instrumentations(
    traced: Traced,
) -> None:
    for _ in range(20):
        assert (await traced.client.get("/items/42")).status_code == 200
        assert traced.seen.trace_id != 0
        assert not traced.seen.sampled
        assert not traced.seen.instrumented
        assert not traced.seen.fastapi_traced
    assert traced.exporter.get_finished_spans() == ()


@pytest.mark.parametrize("traced", [DROP_ALL], indirect=True)
async def test_a_callers_sampled_trace_is_followed_even_when_the_service_keeps_none(
    traced: Traced,
) -> None:
    header = {"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"}
    assert (await traced.client.get("/items/42", headers=header)).status_code == 200
    [span] = traced.exporter.get_finished_spans()
    assert span.context is not None
    assert span.parent is not None
    assert format(span.context.trace_id, "032x") == CALLER_TRACE
    assert format(span.parent.span_id, "016x") == CALLER_SPAN


async def test_a_callers_unsampled_trace_is_carried_on_and_nothing_is_exported(
    traced: Traced,
) -> None:
    header = {"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-00"}
    assert (await traced.client.get("/items/42", headers=header)).status_code == 200
    assert traced.exporter.get_finished_spans() == ()
    assert format(traced.seen.trace_id, "032x") == CALLER_TRACE
    assert not traced.seen.sampled
    assert not traced.seen.instrumented


async def test_a_client_cannot_mint_span_names(traced: Traced) -> None:
    await traced.client.request("BREW", "/items/42")
    await traced.client.get("/no/such/path")
    names = sorted(span.name for span in traced.exporter.get_finished_spans())
    # An unknown method is "HTTP"; a path no route matches leaves the method alone.
    assert names == ["GET", "HTTP /items/{item_id}"]


async def test_fifty_requests_at_once_each_keep_their_own_trace() -> None:
    """Half the traces kept, fifty requests in flight together: each request's span has the
    trace id the request itself saw, and a dropped request exports nothing."""
    exporter = InMemorySpanExporter()
    provider = new_tracer_provider(ParentBased(TraceIdRatioBased(0.5)))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = GatedFastAPI(telemetry=request_telemetry(provider))
    app.trace_requests(provider)
    seen: dict[str, tuple[int, bool]] = {}

    @app.get("/items/{item_id}")
    async def item(item_id: str) -> dict[str, str]:
        context = trace.get_current_span().get_span_context()
        await asyncio.sleep(0.01)  # every request in flight at once
        seen[item_id] = (context.trace_id, context.trace_flags.sampled)
        return {"id": item_id}

    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for _ in range(5):
                exporter.clear()
                seen.clear()
                answers = await asyncio.gather(
                    *(client.get(f"/items/{index}", params={"n": index}) for index in range(50))
                )
                assert {answer.status_code for answer in answers} == {200}
                kept = {key: trace_id for key, (trace_id, sampled) in seen.items() if sampled}
                spans = exporter.get_finished_spans()
                assert len({trace_id for trace_id, _ in seen.values()}) == 50
                assert len(spans) == len(kept)
                for span in spans:
                    assert span.context is not None
                    assert span.context.trace_id in kept.values()
                    assert span.attributes is not None
                    assert span.attributes["url.path"] == f"/items/{_key(kept, span)}"
    finally:
        provider.shutdown()


def _key(kept: dict[str, int], span: ReadableSpan) -> str:
    assert span.context is not None
    [key] = [key for key, trace_id in kept.items() if trace_id == span.context.trace_id]
    return key
