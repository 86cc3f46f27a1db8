"""Error answers sent by middleware, outside FastAPI's handlers, in the same envelope."""

from __future__ import annotations

from typing import Any

from starlette.types import Scope, Send

from entrypoints.http.envelope import envelope_bytes


async def send_envelope(
    scope: Scope,
    send: Send,
    status: int,
    code: str,
    message: str,
    *,
    details: dict[str, Any] | None = None,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    request_id = scope.get("state", {}).get("request_id")
    body = envelope_bytes(code, message, request_id, details)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
