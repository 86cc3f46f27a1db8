from __future__ import annotations

import os
import re
from contextvars import ContextVar

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.http.paths import PAGE_PATHS

_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

_BASE_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
_API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
# The documentation pages and their assets come from Keel itself (entrypoints/http/docs.py):
# nothing from another origin, no inline script.
_DOCS_CSP = (
    b"content-security-policy",
    b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
)
# ReDoc styles its page through styled-components, which writes <style> elements at run time:
# without 'unsafe-inline' for styles it stops with "An error occurred" (its error 17) and draws
# nothing. Its search index runs in a worker it starts from a blob: URL. Swagger UI needs
# neither, so only /redoc is allowed them.
_REDOC_CSP = (
    b"content-security-policy",
    b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; connect-src 'self'; worker-src blob:; "
    b"frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
)
_HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")
DOCS_PATHS = ("/docs", "/redoc")
REDOC_PATH = "/redoc"

# The account pages: a stylesheet of their own, forms posting to themselves, no script at all.
_PAGES_CSP = (
    b"content-security-policy",
    b"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    b"frame-ancestors 'none'; base-uri 'none'",
)


class RequestContextMiddleware:
    """Gives every request an id (the client's when sane) and every answer the id and the
    security headers."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self._api_headers = [*_BASE_HEADERS, _API_CSP] + ([_HSTS] if hsts else [])
        self._docs_headers = [*_BASE_HEADERS, _DOCS_CSP] + ([_HSTS] if hsts else [])
        self._redoc_headers = [*_BASE_HEADERS, _REDOC_CSP] + ([_HSTS] if hsts else [])
        self._page_headers = [*_BASE_HEADERS, _PAGES_CSP] + ([_HSTS] if hsts else [])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # 128 random bits in hex, as uuid4().hex less its fixed version bits and object.
        request_id = _client_request_id(scope) or os.urandom(16).hex()
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        path: str = scope.get("path", "")
        if path in PAGE_PATHS:
            extra = self._page_headers
        elif path == REDOC_PATH:
            extra = self._redoc_headers
        elif path.startswith(DOCS_PATHS):
            extra = self._docs_headers
        else:
            extra = self._api_headers
        encoded_id = request_id.encode()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.append((b"x-request-id", encoded_id))
                headers.extend(h for h in extra if h[0] not in present)
                message["headers"] = headers
            await send(message)

        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            request_id_var.reset(token)
            structlog.contextvars.clear_contextvars()


def _client_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            try:
                text = value.decode("ascii")
            except UnicodeDecodeError:
                return None
            return text if _SANE_ID.match(text) else None
    return None
