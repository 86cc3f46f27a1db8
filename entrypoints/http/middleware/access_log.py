"""Per request: one access line (method, route template, status, duration, client, user) and
the request metrics, measured once for both."""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.logs import access_logger
from entrypoints.metrics import Metrics

UNMATCHED_ROUTE = "<unmatched>"
# Any other method is counted as OTHER: a client must not be able to mint label values.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        # The metric children of each (method, route, status): looked up once, not per
        # request. Bounded, as the labels are (known methods, route templates, statuses).
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        in_flight = self.metrics.in_flight
        in_flight.inc()

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            in_flight.dec()
            elapsed = time.perf_counter() - started
            method = scope.get("method", "")
            method_label = method if method in KNOWN_METHODS else "OTHER"
            # The template, never the raw path: bounded label values and no ids in the log.
            route = getattr(scope.get("route"), "path", None) or UNMATCHED_ROUTE
            key = (method_label, route, status)
            children = self._children.get(key)
            if children is None:
                children = self._children[key] = (
                    self.metrics.requests.labels(*key),
                    self.metrics.latency.labels(*key),
                )
            children[0].inc()
            children[1].observe(elapsed)
            client = scope.get("client")
            state = scope.get("state", {})
            access_logger().info(
                "request",
                method=method,
                route=route,
                status=status,
                duration_ms=round(elapsed * 1000, 2),
                client=client[0] if client else None,
                user_id=state.get("user_id"),
                request_id=state.get("request_id"),
            )
