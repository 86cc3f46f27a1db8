"""Compression of answers, for the clients that ask for it."""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.http.paths import ATTACHMENT_PATH

_VARY = b"vary"
_ACCEPT_ENCODING = b"Accept-Encoding"


class CompressionMiddleware:
    """gzip for the clients that accept it, by Starlette's ``GZipMiddleware``. Every other
    answer goes out as it is, with ``Vary: Accept-Encoding`` when it is large enough to have
    been compressed for another client (as Starlette's identity path does, without its
    set-up for each request, which costs more than the rest of this layer)."""

    def __init__(self, app: ASGIApp, *, minimum_size: int, compresslevel: int) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self._gzip = GZipMiddleware(app, minimum_size=minimum_size, compresslevel=compresslevel)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if ATTACHMENT_PATH.fullmatch(scope["path"]):
            await self.app(scope, receive, send)  # stored bytes, ranges: sent as they are
            return
        if _accepts_gzip(scope):
            await self._gzip(scope, receive, send)
            return
        held: Message | None = None

        async def send_as_is(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                held = message  # until the body shows whether it could have been compressed
                return
            if held is not None:
                start, held = held, None
                if message["type"] == "http.response.body" and (
                    message.get("more_body", False)
                    or len(message.get("body", b"")) >= self.minimum_size
                ):
                    _add_vary(start)
                await send(start)
            await send(message)

        await self.app(scope, receive, send_as_is)


def _accepts_gzip(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"accept-encoding":
            return b"gzip" in value
    return False


def _add_vary(start: Message) -> None:
    headers = list(start.get("headers", ()))
    if start.get("status") == 206 or any(
        name.lower() == b"content-encoding" for name, _ in headers
    ):
        return  # not compressed for anyone either
    for index, (name, value) in enumerate(headers):
        if name.lower() == _VARY:
            if _ACCEPT_ENCODING.lower() not in value.lower():
                headers[index] = (name, value + b", " + _ACCEPT_ENCODING)
            break
    else:
        headers.append((_VARY, _ACCEPT_ENCODING))
    start["headers"] = headers
