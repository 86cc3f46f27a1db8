"""The AsyncAPI 3 document of the live-event WebSocket, served beside the OpenAPI document
(and like it, only where the docs are enabled)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from entrypoints.http.live import protocol as p

ASYNCAPI_PATH = "/asyncapi.json"
_RECEIVED = ("ready", "pong", "reset", "itemCreated", "itemUpdated", "itemDeleted")

_ITEM = {
    "type": "object",
    "required": ["id", "owner_id", "title", "description", "created_at", "updated_at"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "owner_id": {"type": "string", "format": "uuid"},
        "title": {"type": "string"},
        "description": {"type": ["string", "null"]},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}


def _event(kind: str, with_item: bool) -> dict[str, Any]:
    required = ["type", "id", "item_id", "version", "at"] + (["item"] if with_item else [])
    properties: dict[str, Any] = {
        "type": {"const": kind},
        "id": {"type": "string", "description": "Opaque, increasing; send it back as `after`."},
        "item_id": {"type": "string", "format": "uuid"},
        "version": {"type": "integer", "description": "The item's version (its ETag)."},
        "at": {"type": "string", "format": "date-time"},
    }
    if with_item:
        properties["item"] = _ITEM
    return {"payload": {"type": "object", "required": required, "properties": properties}}


def _simple(kind: str, **properties: Any) -> dict[str, Any]:
    return {
        "payload": {
            "type": "object",
            "required": ["type", *properties],
            "properties": {"type": {"const": kind}, **properties},
        }
    }


def asyncapi_document(app: FastAPI) -> dict[str, Any]:
    messages = {
        "auth": _simple(
            "auth",
            token={"type": "string", "description": "An access token."},
        )
        | {"summary": f"The first message, within {p.AUTH_SECONDS:g} s."},
        "ping": _simple("ping"),
        "ready": _simple("ready"),
        "pong": _simple("pong"),
        "reset": _simple("reset", reason={"type": "string"})
        | {"summary": "The events after `after` are no longer all kept: reload."},
        "itemCreated": _event("item.created", True),
        "itemUpdated": _event("item.updated", True),
        "itemDeleted": _event("item.deleted", False),
    }
    messages["auth"]["payload"]["properties"]["after"] = {"type": "string"}
    ref = {name: {"$ref": f"#/channels/live/messages/{name}"} for name in messages}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": f"{app.title} live events",
            "version": app.version,
            "description": (
                "Committed changes of the caller's items (an administrator's: everyone's), "
                "in commit order per item. Close codes: 4401 bad token or session ended, "
                "4408 no auth in time, 4429 too many sockets, 1008 a message that breaks the "
                "rules, 1009 a message over 4 KiB, 1013 a client too slow to keep up, "
                "1001 the server is stopping."
            ),
        },
        "channels": {"live": {"address": "/api/v1/ws", "messages": messages}},
        "operations": {
            "authenticate": {
                "action": "send",
                "channel": {"$ref": "#/channels/live"},
                "messages": [ref["auth"], ref["ping"]],
            },
            "receiveEvents": {
                "action": "receive",
                "channel": {"$ref": "#/channels/live"},
                "messages": [
                    ref[name]
                    for name in (
                        "ready",
                        "pong",
                        "reset",
                        "itemCreated",
                        "itemUpdated",
                        "itemDeleted",
                    )
                ],
            },
        },
    }


def install_asyncapi(app: FastAPI) -> None:
    document = asyncapi_document(app)

    async def asyncapi() -> JSONResponse:
        return JSONResponse(document)

    app.add_api_route(ASYNCAPI_PATH, asyncapi, methods=["GET"], include_in_schema=False)
