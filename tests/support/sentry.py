"""A stand-in for Sentry's ingestion host, for the tests: an HTTP server on a free loopback port
that takes the SDK's envelopes (``POST /api/PROJECT/envelope/``, gzip or plain) and keeps each
one, raw and parsed. Point ``SENTRY_DSN`` at ``receiver.dsn``."""

from __future__ import annotations

import gzip
import json
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PROJECT_ID = 1
PUBLIC_KEY = "0123456789abcdef0123456789abcdef"


@dataclass(frozen=True)
class Envelope:
    """One envelope: its header, and its items as (item header, payload bytes)."""

    raw: bytes  # decompressed, as sent
    headers: dict[str, Any]
    items: list[tuple[dict[str, Any], bytes]] = field(default_factory=list)

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(payload) for head, payload in self.items if head["type"] == "event"]


def parse_envelope(raw: bytes) -> Envelope:
    """Header line; then each item: its header line, and a payload of ``length`` bytes or, with
    no length, up to the next newline (https://develop.sentry.dev/sdk/envelopes/)."""
    first, _, rest = raw.partition(b"\n")
    envelope = Envelope(raw=raw, headers=json.loads(first))
    while rest.strip():
        line, _, rest = rest.partition(b"\n")
        head = json.loads(line)
        if "length" in head:
            payload, rest = rest[: head["length"]], rest[head["length"] :]
            rest = rest.removeprefix(b"\n")
        else:
            payload, _, rest = rest.partition(b"\n")
        envelope.items.append((head, payload))
    return envelope


def _decoded(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    assert encoding in ("", "identity"), f"unexpected Content-Encoding {encoding!r}"
    return body


class SentryReceiver:
    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.requests: list[tuple[str, dict[str, str]]] = []  # path and headers of each POST
        self._condition = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                raw = _decoded(body, self.headers.get("Content-Encoding", ""))
                with receiver._condition:
                    receiver.requests.append((self.path, dict(self.headers)))
                    receiver.envelopes.append(parse_envelope(raw))
                    receiver._condition.notify_all()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.dsn = f"http://{PUBLIC_KEY}@127.0.0.1:{self.port}/{PROJECT_ID}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def events(self) -> list[dict[str, Any]]:
        with self._condition:
            return self._events()

    def raw(self) -> bytes:
        with self._condition:
            return b"\n".join(envelope.raw for envelope in self.envelopes)

    def wait_for_events(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self._condition:
            while len(self._events()) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{count} event(s) expected, got {self._events()}"
                self._condition.wait(left)
            return self._events()

    def _events(self) -> list[dict[str, Any]]:
        return [event for envelope in self.envelopes for event in envelope.events()]
