"""When tracing is on: only an OTLP endpoint turns it on, and OTEL_SDK_DISABLED off."""

from __future__ import annotations

import pytest

from entrypoints.container.tracing import drawn_trace_id, gate_id_generator, tracing_wanted


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
