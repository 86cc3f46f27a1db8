"""Events as the outbox stores them: a kind and the fields in JSON."""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any

from domain.events import (
    AttachmentsRemoved,
    Event,
    ItemCreated,
    ItemDeleted,
    ItemUpdated,
    OwnerItemsDeleted,
    PasswordResetRequested,
    SessionsEnded,
    UserRegistered,
    VerificationRequested,
)

KINDS: dict[str, type[Event]] = {
    "user_registered": UserRegistered,
    "verification_requested": VerificationRequested,
    "password_reset_requested": PasswordResetRequested,
    "item_created": ItemCreated,
    "item_updated": ItemUpdated,
    "item_deleted": ItemDeleted,
    "owner_items_deleted": OwnerItemsDeleted,
    "sessions_ended": SessionsEnded,
    "attachments_removed": AttachmentsRemoved,
}
_KIND_OF = {cls: kind for kind, cls in KINDS.items()}


def encode(event: Event) -> tuple[str, str]:
    fields = {
        name: str(value) if isinstance(value, uuid.UUID) else value
        for name, value in ((f.name, getattr(event, f.name)) for f in dataclasses.fields(event))
    }
    return _KIND_OF[type(event)], json.dumps(fields, separators=(",", ":"))


def decode(kind: str, payload: str) -> Event:
    """The event again; ``KeyError`` or ``ValueError`` for a kind or fields this code does
    not know (an entry from another version)."""
    cls = KINDS[kind]
    raw: dict[str, Any] = json.loads(payload)
    values: dict[str, Any] = {
        f.name: uuid.UUID(raw[f.name]) if f.type in ("uuid.UUID", uuid.UUID) else raw[f.name]
        for f in dataclasses.fields(cls)
        if f.name in raw or f.default is dataclasses.MISSING
    }
    return cls(**values)
