"""The request's span (OpenTelemetry's ASGI middleware), named by the route template.

The router finds the route only after the span has begun: it starts as the method alone and
is renamed ``GET /api/v1/items/{item_id}`` once the request is answered, never by the raw
path (which holds ids). Its URL attributes leave out the query string, which may hold a
token."""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.http.middleware.access_log import KNOWN_METHODS


def request_span_middleware(app: ASGIApp) -> ASGIApp:
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    return OpenTelemetryMiddleware(
        RouteNameMiddleware(app),
        default_span_details=_method_only,
        server_request_hook=_without_query,
        exclude_spans=["receive", "send"],
    )


class RouteNameMiddleware:
    """Names the request's span once the router has found the route: when the answer
    starts, as the span ends with the answer's last part."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def naming_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                route = getattr(scope.get("route"), "path", None)
                if route is not None:
                    from opentelemetry import trace

                    span = trace.get_current_span()
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
