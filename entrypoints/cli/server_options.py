"""How ``keel serve`` runs uvicorn beyond host, port and workers: the bounds on what a client
may make a worker read, and how long the supervisor waits on a worker."""

from __future__ import annotations

from typing import Any

from entrypoints.settings import Settings
from entrypoints.transport import ReadBounds, bounded_protocol

# How long uvicorn's supervisor waits for a worker's answer to its ping (its default is 5 s).
# A worker answers from its second thread once its interpreter is up, before it imports the
# application; a busy machine can still starve that thread for seconds, which must not cost
# the worker its life. A hung worker is replaced that much later.
WORKER_HEALTHCHECK_SECONDS = 15
# Live-event sockets: a ping every WS_PING_SECONDS, and a client whose pong is later than
# WS_PONG_TIMEOUT_SECONDS is dropped; a message over the protocol's limit is refused (1009)
# before it is held.
# (The protocol's limit, entrypoints/http/live/protocol.py: the app checks it too.)
WS_MAX_MESSAGE_BYTES = 4096


def server_options(settings: Settings) -> dict[str, Any]:
    bounds = ReadBounds(
        head_timeout=settings.http_head_timeout_seconds,
        body_timeout=settings.http_body_timeout_seconds,
        body_min_rate=settings.http_body_min_rate,
    )
    return {
        "http": bounded_protocol(bounds),
        "timeout_keep_alive": settings.http_keep_alive_seconds,
        "timeout_worker_healthcheck": WORKER_HEALTHCHECK_SECONDS,
        # The sans-I/O protocol keeps pings and the pong deadline as timers, not tasks:
        # 61 MB for 1,000 idle sockets against 68 (bench/live.py).
        "ws": "websockets-sansio",
        "ws_max_size": WS_MAX_MESSAGE_BYTES,
        "ws_ping_interval": settings.ws_ping_seconds,
        "ws_ping_timeout": settings.ws_pong_timeout_seconds,
        # Events are small; a compression context per socket would cost far more memory
        # (some 300 KB each) than it saves bandwidth.
        "ws_per_message_deflate": False,
    }
