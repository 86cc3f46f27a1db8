"""The HTTP/1.1 connection as ``keel serve`` runs it: uvicorn's httptools protocol with bounds
on what a client may make a worker read and hold.

httptools keeps the head it has parsed so far in memory with no limit, and uvicorn waits for a
head or a body however slowly it arrives. Here a head over ``MAX_HEAD_BYTES`` is refused with
431 before the parser holds more of it; a head must arrive whole within ``head_timeout``
(counted from the connection's opening, or from the first byte of the next request on a kept
connection); a body must not stall for ``body_timeout`` and, past that grace, must average at
least ``body_min_rate`` bytes a second. Time the worker itself stops reading (the application
has not consumed what came before) is not held against the client.

This module is imported by each worker before it answers the supervisor's health pings, so it
imports nothing heavy.
"""

from __future__ import annotations

import asyncio
import functools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, cast

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

MAX_HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class ReadBounds:
    head_timeout: float
    body_timeout: float
    body_min_rate: int


def bounded_protocol(bounds: ReadBounds) -> type[asyncio.Protocol]:
    """What uvicorn's ``http`` option takes: it calls it per connection like a class, and a
    partial pickles into the worker processes with its bounds."""
    return cast(type[asyncio.Protocol], functools.partial(BoundedHttpToolsProtocol, bounds=bounds))


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        bounds: ReadBounds,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.bounds = bounds
        self.reading_head = True
        self.head_bytes = 0
        self.read_timer: asyncio.TimerHandle | None = None
        self.body_started = 0.0
        self.body_last = 0.0
        self.body_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # A connection that never sends a byte is a head that never arrives.
        self._arm(self.bounds.head_timeout, self._head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self.reading_head:
            self._feed(data)
            return
        room = MAX_HEAD_BYTES - self.head_bytes
        if len(data) <= room:
            self.head_bytes += len(data)
            self._feed(data)
            # The first bytes of a request on a kept connection: a head that came whole (the
            # usual case) needs no timer; one still arriving gets its deadline now.
            if self.reading_head and self.read_timer is None and not self.transport.is_closing():
                self._arm(self.bounds.head_timeout, self._head_timed_out)
            return
        # Give the parser no more than the limit allows; if the head has not ended within
        # it, it is too large. Whatever follows a head that did end is read as usual.
        self.head_bytes = MAX_HEAD_BYTES
        self._feed(data[:room])
        if self.transport.is_closing() or self.transport.get_protocol() is not self:
            return
        if self.reading_head and self.head_bytes == MAX_HEAD_BYTES:
            self._refuse(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
            return
        self.data_received(data[room:])

    def _feed(self, data: bytes) -> None:
        super().data_received(data)
        if (
            not self.reading_head
            and self.read_timer is None
            and not self.transport.is_closing()
            and self.transport.get_protocol() is self  # not upgraded to a WebSocket
        ):
            self._arm(self.bounds.body_timeout, self._body_check)

    def handle_websocket_upgrade(self) -> None:
        # The WebSocket protocol takes the connection over, with its own pings and limits.
        self._disarm()
        super().handle_websocket_upgrade()

    def on_headers_complete(self) -> None:
        self._disarm()
        self.reading_head = False
        self.body_started = self.body_last = self.loop.time()
        self.body_bytes = 0
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self.body_bytes += len(body)
        self.body_last = self.loop.time()
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._disarm()
        self.reading_head = True
        self.head_bytes = 0
        super().on_message_complete()

    def _head_timed_out(self) -> None:
        self.read_timer = None
        self._refuse(HTTPStatus.REQUEST_TIMEOUT)

    def _body_check(self) -> None:
        self.read_timer = None
        now = self.loop.time()
        rate = self.bounds.body_min_rate
        if self.flow.read_paused:
            # The worker stopped reading, not the client: restart the clocks.
            self.body_last = now
            self.body_started = now - self.body_bytes / rate
        stalled_at = self.body_last + self.bounds.body_timeout
        too_slow_at = self.body_started + self.bounds.body_timeout + self.body_bytes / rate
        deadline = min(stalled_at, too_slow_at)
        if now < deadline:
            self._arm(deadline - now, self._body_check)
            return
        # The application owns this request's answer and sees the connection go.
        self.transport.close()

    def _arm(self, delay: float, callback: Callable[[], None]) -> None:
        self._disarm()
        # Once a WebSocket has taken the connection over, no HTTP deadline applies: a 408
        # written then would land in the middle of its frames.
        if self.transport.get_protocol() is not self:
            return
        self.read_timer = self.loop.call_later(delay, callback)

    def _disarm(self) -> None:
        if self.read_timer is not None:
            self.read_timer.cancel()
            self.read_timer = None

    def _refuse(self, status: HTTPStatus) -> None:
        """Answer in the error envelope and close: the rest of the request is never read.
        Behind a request still being answered (pipelined), only close."""
        self._disarm()
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.keep_alive = False
            self.transport.close()
            return
        request_id = uuid.uuid4().hex
        error = {"code": "HTTP_ERROR", "message": status.phrase, "details": {}}
        body = json.dumps({"error": {**error, "request_id": request_id}}).encode()
        head = (
            f"HTTP/1.1 {status.value} {status.phrase}\r\n"
            "content-type: application/json\r\n"
            f"content-length: {len(body)}\r\n"
            f"x-request-id: {request_id}\r\n"
            "x-content-type-options: nosniff\r\n"
            "connection: close\r\n\r\n"
        )
        self.transport.write(head.encode("ascii") + body)
        self.transport.close()
