"""The messages and close codes of ``GET /api/v1/ws`` (README, "Realtime")."""

from __future__ import annotations

import json
from typing import Any

from application.ports import Delivery
from domain.events import ItemCreated, ItemDeleted, ItemUpdated

# The client's first message must come within this.
AUTH_SECONDS = 5.0
# A client message larger than this closes the socket with 1009.
MAX_MESSAGE_BYTES = 4096
# Events waiting to be sent to one socket before its client counts as too slow.
SEND_QUEUE = 256
# One send may take this long (a client that stopped reading fills its TCP window).
SEND_SECONDS = 10.0
# Client messages (pings) allowed in a window; more close the socket with 1008.
CLIENT_MESSAGES = 20
CLIENT_WINDOW_SECONDS = 10.0

NORMAL = 1000
GOING_AWAY = 1001
POLICY_VIOLATION = 1008
TOO_BIG = 1009
SERVER_ERROR = 1011
TRY_AGAIN_LATER = 1013
UNAUTHORISED = 4401
AUTH_TIMEOUT = 4408
TOO_MANY_CONNECTIONS = 4429

_TYPES = {ItemCreated: "item.created", ItemUpdated: "item.updated", ItemDeleted: "item.deleted"}


class Violation(Exception):
    """The client broke the protocol: the socket closes with ``code``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def parse(text: str | None, data: bytes | None) -> dict[str, Any]:
    """A client message: one JSON object in a text frame, at most ``MAX_MESSAGE_BYTES``."""
    if text is None:
        raise Violation(POLICY_VIOLATION, "binary messages are not accepted")
    if len(text) > MAX_MESSAGE_BYTES or len(text.encode()) > MAX_MESSAGE_BYTES:
        raise Violation(TOO_BIG, "message too big")
    try:
        message = json.loads(text)
    except ValueError:
        raise Violation(POLICY_VIOLATION, "malformed JSON") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise Violation(POLICY_VIOLATION, "a message is a JSON object with a type")
    return message


def auth_of(message: dict[str, Any]) -> tuple[str, str | None]:
    """The token and the optional ``after`` of the first message."""
    token, after = message.get("token"), message.get("after")
    if message["type"] != "auth" or not isinstance(token, str):
        raise Violation(POLICY_VIOLATION, "the first message must be auth with a token")
    if after is not None and not isinstance(after, str):
        raise Violation(POLICY_VIOLATION, "after must be an event id")
    return token, after


def event_message(delivery: Delivery) -> str:
    event = delivery.event
    message: dict[str, Any] = {
        "type": _TYPES[type(event)],
        "id": delivery.id,
        "item_id": str(event.item_id),
        "version": event.version,
    }
    if isinstance(event, ItemDeleted):
        message["at"] = event.at
    else:
        message["item"] = {
            "id": str(event.item_id),
            "owner_id": str(event.owner_id),
            "title": event.title,
            "description": event.description,
            "created_at": event.created_at,
            "updated_at": event.updated_at,
        }
        message["at"] = event.updated_at
    return json.dumps(message, separators=(",", ":"))


READY = json.dumps({"type": "ready"})
PONG = json.dumps({"type": "pong"})
RESET = json.dumps(
    {
        "type": "reset",
        "reason": "the events after that id are no longer kept: reload, then listen afresh",
    }
)
