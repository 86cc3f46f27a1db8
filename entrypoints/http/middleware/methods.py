"""HEAD on every GET route and OPTIONS on every path, without routes of their own: the OpenAPI
document keeps only the operations a client calls for their answer."""

from __future__ import annotations

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The methods routes declare; HEAD follows GET, and OPTIONS is answered here for every path.
_ROUTED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_END_OF_BODY: Message = {"type": "http.response.body", "body": b"", "more_body": False}


class MethodsMiddleware:
    """HEAD is answered as GET would be, status and headers alike (``Content-Length``
    included), with no body. OPTIONS is a 204 naming the path's methods in ``Allow``; a CORS
    preflight is answered before it gets here when ``CORS_ORIGINS`` is set, and without it
    this answer allows no origin. A path no route serves is left to the router (404). Any
    other method passes straight through, at the cost of two comparisons."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            method = scope["method"]
            if method == "HEAD":
                await self._head(scope, receive, send)
                return
            if method == "OPTIONS":
                allowed = allowed_methods(scope)
                if allowed is not None:
                    await _send_allow(send, allowed)
                    return
        await self.app(scope, receive, send)

    async def _head(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A copy: the server reads the method of its own scope to frame the answer.
        as_get = {**scope, "method": "GET"}

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.start":
                await send(message)
            elif not message.get("more_body", False):
                await send(_END_OF_BODY)

        try:
            await self.app(as_get, receive, send_headers_only)
        finally:
            # The route it reached, for the access log and the metrics outside.
            if "route" in as_get:
                scope["route"] = as_get["route"]


def allowed_methods(scope: Scope) -> str | None:
    """Every method the path serves, across all the routes that match it, for ``Allow``;
    None when no route serves the path."""
    routes = scope["app"].router.routes
    served = [
        method
        for method in _ROUTED_METHODS
        if any(route.matches({**scope, "method": method})[0] is Match.FULL for route in routes)
    ]
    if not served:
        return None
    if "GET" in served:
        served.insert(served.index("GET") + 1, "HEAD")
    return ", ".join([*served, "OPTIONS"])


async def _send_allow(send: Send, allowed: str) -> None:
    headers = [(b"allow", allowed.encode("latin-1"))]
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send(_END_OF_BODY)
