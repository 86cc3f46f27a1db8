from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from application.ports import OutboxEntry
from application.ports.attachments import PendingUpload
from domain.attachment import Attachment
from domain.item import Item
from domain.mfa import RecoveryCode, TotpCredential
from domain.one_time_token import OneTimeToken
from domain.personal_token import PersonalToken
from domain.security_event import SecurityEvent
from domain.session import RefreshSession
from domain.user import User


@dataclass
class InMemoryStore:
    """What the in-memory units of work share: the committed state."""

    users: dict[uuid.UUID, User] = field(default_factory=dict)
    items: dict[uuid.UUID, Item] = field(default_factory=dict)
    sessions: dict[uuid.UUID, RefreshSession] = field(default_factory=dict)
    one_time_tokens: dict[uuid.UUID, OneTimeToken] = field(default_factory=dict)
    personal_tokens: dict[uuid.UUID, PersonalToken] = field(default_factory=dict)
    outbox: dict[uuid.UUID, OutboxEntry] = field(default_factory=dict)
    security_events: list[SecurityEvent] = field(default_factory=list)
    attachments: dict[uuid.UUID, Attachment] = field(default_factory=dict)
    uploads: dict[uuid.UUID, tuple[PendingUpload, datetime]] = field(default_factory=dict)
    usage: dict[uuid.UUID, int] = field(default_factory=dict)
    totp_credentials: dict[uuid.UUID, TotpCredential] = field(default_factory=dict)
    recovery_codes: dict[uuid.UUID, RecoveryCode] = field(default_factory=dict)
