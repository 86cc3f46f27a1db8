"""Cross-origin requests from the origins in ``CORS_ORIGINS``, refusals in the envelope."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware as StarletteCORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.http.envelope import envelope_bytes
from entrypoints.http.error_table import CROSS_ORIGIN_REFUSED
from entrypoints.http.middleware.request_context import request_id_var

ALLOWED_METHODS = ("GET", "POST", "PATCH", "DELETE")
ALLOWED_HEADERS = ("Authorization", "Content-Type", "If-Match", "X-Request-ID")
EXPOSED_HEADERS = ("ETag", "Retry-After", "WWW-Authenticate", "X-Request-ID")
PREFLIGHT_MAX_AGE_SECONDS = 600


class CORSMiddleware(StarletteCORSMiddleware):
    """Starlette's CORS handling (plain ASGI). Tokens travel in the ``Authorization`` header,
    never in cookies, so credentials are not allowed and ``*`` is a valid origin list."""

    def __init__(self, app: ASGIApp, *, origins: Sequence[str]) -> None:
        super().__init__(
            app,
            allow_origins=list(origins),
            allow_methods=ALLOWED_METHODS,
            allow_headers=ALLOWED_HEADERS,
            expose_headers=EXPOSED_HEADERS,
            allow_credentials=False,
            max_age=PREFLIGHT_MAX_AGE_SECONDS,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _has_origin(scope):
            await super().__call__(scope, receive, send)
            return

        # No Origin: not a cross-origin request. As Starlette does, the answer only tells
        # caches that it depends on the Origin, without Starlette's header objects.
        async def send_varying(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _vary_by_origin(message.get("headers", ()))
            await send(message)

        await self.app(scope, receive, send_varying)

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        headers = {
            name: value
            for name, value in response.headers.items()
            if name.lower() not in ("content-length", "content-type")
        }
        return Response(
            envelope_bytes(
                CROSS_ORIGIN_REFUSED.code,
                CROSS_ORIGIN_REFUSED.message or "",
                request_id_var.get(),
                {"refused": self.refused(request_headers)},
            ),
            status_code=CROSS_ORIGIN_REFUSED.status,
            media_type="application/json",
            headers=headers,
        )

    def refused(self, request_headers: Headers) -> list[str]:
        """What of a preflight the allow-lists refuse, in the order Starlette checks them:
        ``origin``, ``method``, ``headers``, ``private-network``."""
        refused = []
        if not self.is_allowed_origin(origin=request_headers["origin"]):
            refused.append("origin")
        if request_headers["access-control-request-method"] not in self.allow_methods:
            refused.append("method")
        requested = request_headers.get("access-control-request-headers")
        names = requested.split(",") if requested is not None and not self.allow_all_headers else []
        if any(name.strip().lower() not in self.allow_headers for name in names):
            refused.append("headers")
        private = request_headers.get("access-control-request-private-network")
        if private is not None and not self.allow_private_network:
            refused.append("private-network")
        return refused


def _has_origin(scope: Scope) -> bool:
    return any(name == b"origin" for name, _ in scope["headers"])


def _vary_by_origin(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """One ``Vary`` header, its values so far and then ``Origin``."""
    kept: list[tuple[bytes, bytes]] = []
    varies: list[bytes] = []
    for name, value in headers:
        if name.lower() == b"vary":
            varies.append(value)
        else:
            kept.append((name, value))
    kept.append((b"vary", b", ".join([*varies, b"Origin"])))
    return kept
