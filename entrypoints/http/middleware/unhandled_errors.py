from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.http.error_table import INTERNAL_ERROR
from entrypoints.http.middleware.responses import send_envelope

logger = logging.getLogger("keel.http")
# Told of each exception the guard catches, with the request's scope (error reporting).
ErrorListener = Callable[[BaseException, Scope], Any]


class UnhandledErrorMiddleware:
    """Turns an unexpected exception into a 500 in the envelope, with nothing internal in it.
    It sits inside the request-id middleware so the answer still carries the id and headers,
    and inside the router's scope updates, so ``on_error`` sees the route and the user."""

    def __init__(self, app: ASGIApp, on_error: ErrorListener | None = None) -> None:
        self.app = app
        self.on_error = on_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            logger.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if self.on_error is not None:
                self.on_error(exc, scope)
            if started:
                raise
            await send_envelope(scope, send, INTERNAL_ERROR)
