"""When tracing is on: only an OTLP endpoint turns it on, and OTEL_SDK_DISABLED off."""

from __future__ import annotations

import pytest

from entrypoints.container.tracing import (
    drawn_trace_id,
    gate_id_generator,
    hashed_once,
    tracing_wanted,
)


@pytest.mark.parametrize(
    ("environ", "wanted"),
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "keel", "OTEL_TRACES_SAMPLER": "always_on"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "  "}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "TRUE"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "false"}, True),
    ],
)
def test_only_an_endpoint_turns_tracing_on(environ: dict[str, str], wanted: bool) -> None:
    assert tracing_wanted(environ) is wanted


def test_the_drawn_trace_id_is_used_once_then_ids_are_random_again() -> None:
    ids = gate_id_generator()
    token = drawn_trace_id.set(0xABC)
    try:
        assert ids.generate_trace_id() == 0xABC
        following = ids.generate_trace_id()
        assert following not in (0, 0xABC)
    finally:
        drawn_trace_id.reset(token)
    assert ids.generate_trace_id() != ids.generate_trace_id()


def test_a_resource_hashed_once_equals_and_groups_as_the_sdks_own() -> None:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.trace import SpanContext

    plain = Resource({"service.name": "keel", "host.name": "a"})
    once = hashed_once(plain)
    assert once == plain
    assert hash(once) == hash(plain)
    assert once.attributes == plain.attributes
    assert once.schema_url == plain.schema_url
    other = hashed_once(Resource({"service.name": "keel", "host.name": "b"}))
    assert once != other
    assert hash(once) != hash(other)

    def span(resource: Resource, span_id: int) -> ReadableSpan:
        context = SpanContext(trace_id=1, span_id=span_id, is_remote=False)
        return ReadableSpan(name="GET", context=context, resource=resource)

    request = encode_spans([span(once, 1), span(plain, 2), span(other, 3), span(once, 4)])
    grouped = [len(group.scope_spans[0].spans) for group in request.resource_spans]
    assert grouped == [3, 1]


def test_a_resource_hashed_once_does_not_write_its_attributes_out_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from opentelemetry.sdk import resources

    once = hashed_once(resources.Resource({"service.name": "keel"}))
    expected = hash(once)

    def no_more(*_args: object, **_kwargs: object) -> str:
        raise AssertionError("the resource's attributes were written out again")

    monkeypatch.setattr(resources, "dumps", no_more)
    assert all(hash(once) == expected for _ in range(3))
