"""OpenTelemetry's OTLP/HTTP span exporter with a leaner protobuf encoding.

The SDK's encoder builds a protobuf object for every span, every attribute and every value,
then serialises the tree: about 50 µs a span, in the exporting thread of the serving process.
Most of what it encodes is the same from span to span (the method, the host, the statement,
the database, the resource and the scope), so this one writes the wire format directly and
keeps the encoded bytes of each attribute it has seen. The bytes mean the same as the SDK's
(``tests/unit/test_otlp_export.py`` decodes both and compares); a span with events or links,
which Keel's spans rarely have, is encoded by the SDK's own code."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.common._internal import (
    _encode_instrumentation_scope,
    _encode_key_value,
    _encode_resource,
)
from opentelemetry.exporter.otlp.proto.common._internal.trace_encoder import _encode_span
from opentelemetry.exporter.otlp.proto.http._common import _is_request_too_large
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult

# Attribute values seen again and again; cleared when it grows past this many.
_CACHE_LIMIT = 4096
_HAS_IS_REMOTE = 0x100  # SpanFlags.SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK
_IS_REMOTE = 0x200  # SpanFlags.SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK
_EMPTY_STATUS = b"\x7a\x00"  # field 15, an empty Status: what the SDK writes for UNSET
_pack_u64 = struct.Struct("<Q").pack
_pack_u32 = struct.Struct("<I").pack


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(tag: bytes, payload: bytes) -> bytes:
    """A length-delimited field: its tag, the payload's length, the payload."""
    return tag + _varint(len(payload)) + payload


class SpanEncoder:
    """``ExportTraceServiceRequest`` bytes for a batch of finished spans."""

    def __init__(self) -> None:
        self._attributes: dict[tuple[str, type, Any], bytes] = {}
        self._headers: dict[int, tuple[Any, bytes]] = {}  # resource or scope, by identity

    def encode(self, spans: Sequence[ReadableSpan]) -> bytes:
        grouped: dict[int, dict[int, list[bytes]]] = {}
        owners: dict[int, Any] = {}
        for span in spans:
            resource, scope = span.resource, span.instrumentation_scope
            owners[id(resource)], owners[id(scope)] = resource, scope
            by_scope = grouped.setdefault(id(resource), {})
            by_scope.setdefault(id(scope), []).append(_field(b"\x12", self._span(span)))
        request = bytearray()
        for resource_id, by_scope in grouped.items():
            resource = owners[resource_id]
            body = bytearray(self._header(resource, _resource_bytes))
            for scope_id, encoded in by_scope.items():
                scope = owners[scope_id]
                scope_spans = self._header(scope, _scope_bytes) + b"".join(encoded)
                if scope is not None and scope.schema_url:
                    scope_spans += _field(b"\x1a", scope.schema_url.encode())
                body += _field(b"\x12", scope_spans)
            if resource.schema_url:
                body += _field(b"\x1a", resource.schema_url.encode())
            request += _field(b"\x0a", bytes(body))
        return bytes(request)

    def _header(self, owner: Any, encode: Any) -> bytes:
        cached = self._headers.get(id(owner))
        if cached is None or cached[0] is not owner:
            cached = (owner, encode(owner))
            self._headers[id(owner)] = cached
        return cached[1]

    def _span(self, span: ReadableSpan) -> bytes:
        if span.events or span.links:
            return bytes(_encode_span(span).SerializePartialToString())
        context = span.get_span_context()
        assert context is not None
        out = bytearray(b"\x0a\x10")
        out += context.trace_id.to_bytes(16, "big")
        out += b"\x12\x08"
        out += context.span_id.to_bytes(8, "big")
        if context.trace_state:
            state = ",".join(f"{key}={value}" for key, value in context.trace_state.items())
            out += _field(b"\x1a", state.encode())
        parent = span.parent
        if parent is not None:
            out += b"\x22\x08" + parent.span_id.to_bytes(8, "big")
        out += _field(b"\x2a", span.name.encode())
        out += b"\x30" + _varint(span.kind.value + 1)  # the protobuf enum counts from UNSPECIFIED
        out += b"\x39" + _pack_u64(span.start_time or 0)
        out += b"\x41" + _pack_u64(span.end_time or 0)
        for key, value in (span.attributes or {}).items():
            out += self._attribute(key, value)
        if span.dropped_attributes:
            out += b"\x50" + _varint(span.dropped_attributes)
        status = span.status
        if status.status_code.value or status.description:
            body = bytearray()
            if status.description:
                body += _field(b"\x12", status.description.encode())
            if status.status_code.value:
                body += b"\x18" + _varint(status.status_code.value)
            out += _field(b"\x7a", bytes(body))
        else:
            out += _EMPTY_STATUS
        flags = _HAS_IS_REMOTE | (_IS_REMOTE if parent is not None and parent.is_remote else 0)
        out += b"\x85\x01" + _pack_u32(flags)
        return bytes(out)

    def _attribute(self, key: str, value: Any) -> bytes:
        cache_key = (key, value.__class__, value)  # True == 1 == 1.0: the type tells them apart
        try:
            return self._attributes[cache_key]
        except KeyError:
            pass
        except TypeError:  # not hashable
            return _field(b"\x4a", _encode_key_value(key, value).SerializePartialToString())
        encoded = _field(b"\x4a", _encode_key_value(key, value).SerializePartialToString())
        if len(self._attributes) >= _CACHE_LIMIT:
            self._attributes.clear()
        self._attributes[cache_key] = encoded
        return encoded


def _resource_bytes(resource: Any) -> bytes:
    return _field(b"\x0a", _encode_resource(resource).SerializePartialToString())


def _scope_bytes(scope: Any) -> bytes:
    return _field(b"\x0a", _encode_instrumentation_scope(scope).SerializePartialToString())


class LeanOTLPSpanExporter(OTLPSpanExporter):
    """The SDK's OTLP/HTTP exporter (endpoint, headers, compression, retries and timeout from
    the same variables), encoding with ``SpanEncoder``. What it gives up: the SDK's own
    metrics about its exports, which are off unless ``OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED``
    is set."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._encoder = SpanEncoder()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._shutdown:
            return SpanExportResult.FAILURE
        try:
            data = self._encoder.encode(spans)
        except Exception:  # a span the encoder cannot read: the SDK's encoder says why
            return super().export(spans)
        if _is_request_too_large(data, self._max_request_size):
            return super().export(spans)  # which drops it and says so
        result = self._client.export(data)
        return SpanExportResult.SUCCESS if result.success else SpanExportResult.FAILURE
