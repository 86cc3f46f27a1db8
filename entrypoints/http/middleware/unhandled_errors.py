from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.http.error_table import INTERNAL_ERROR
from entrypoints.http.middleware.responses import send_envelope

logger = logging.getLogger("keel.http")


class UnhandledErrorMiddleware:
    """Turns an unexpected exception into a 500 in the envelope, with nothing internal in it.
    It sits inside the request-id middleware so the answer still carries the id and headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

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
        except Exception:
            logger.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            await send_envelope(scope, send, INTERNAL_ERROR)
