"""Error answers sent by middleware, outside FastAPI's handlers, in the same envelope."""

from __future__ import annotations

from typing import Any

from starlette.types import Scope, Send

from entrypoints.http.envelope import envelope_bytes
from entrypoints.http.error_table import ErrorKind


async def send_envelope(
    scope: Scope,
    send: Send,
    kind: ErrorKind,
    message: str | None = None,
    *,
    details: dict[str, Any] | None = None,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """The answer of ``kind``, with ``message`` when the kind has none of its own."""
    request_id = scope.get("state", {}).get("request_id")
    text = kind.message or message
    assert text is not None, "a message is needed"
    body = envelope_bytes(kind.code, text, request_id, details)
    # A WebSocket handshake is refused with the same answer where the server can send one
    # (the ASGI denial-response extension), otherwise by closing it (a 403).
    prefix = "websocket." if scope["type"] == "websocket" else ""
    if prefix and "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008})
        return
    await send(
        {
            "type": f"{prefix}http.response.start",
            "status": kind.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(
                    (name.lower().encode("latin-1"), value.encode())
                    for name, value in kind.headers.items()
                ),
                *(headers or []),
            ],
        }
    )
    await send({"type": f"{prefix}http.response.body", "body": body})
