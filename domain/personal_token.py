"""Personal access tokens: long-lived bearer tokens for scripts, limited to scopes.

The token is ``keel_pat_`` and 256 random bits, shown once; only its SHA-256 digest is
kept. A fast digest, not a password hash: the token is high-entropy (nothing to guess
from its digest) and is checked on every request it is sent with."""

from __future__ import annotations

import enum
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import ValidationFailed
from domain.session import token_digest
from domain.text import check_text

PREFIX = "keel_pat_"
SHOWN_CHARACTERS = 4  # after the prefix: enough to recognise a token in a list
MAX_NAME_LENGTH = 100
MAX_DAYS = 365
DEFAULT_DAYS = 30
# 32 bytes of randomness, urlsafe base64 without padding: 43 characters.
TOKEN_LENGTH = len(PREFIX) + 43
# How stale ``last_used_at`` may be: it is written at most once per this per token.
LAST_USED_PRECISION = timedelta(minutes=1)


class Scope(enum.StrEnum):
    ITEMS_READ = "items:read"
    ITEMS_WRITE = "items:write"
    ACCOUNT_READ = "account:read"


def is_personal_token(text: str) -> bool:
    return text.startswith(PREFIX)


@dataclass(slots=True)
class PersonalToken:
    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    scopes: frozenset[Scope]
    token_hash: str
    shown: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    @classmethod
    def issue(
        cls,
        *,
        user_id: uuid.UUID,
        name: str,
        scopes: frozenset[Scope],
        days: int,
        now: datetime,
    ) -> tuple[PersonalToken, str]:
        """The stored token and the text of the token, which is never stored."""
        name = check_text("name", name.strip(), min_length=1, max_length=MAX_NAME_LENGTH)
        if not scopes:
            raise ValidationFailed("scopes", "At least one scope")
        if not 1 <= days <= MAX_DAYS:
            raise ValidationFailed("expires_in_days", f"From 1 to {MAX_DAYS} days")
        text = PREFIX + secrets.token_urlsafe(32)
        token = cls(
            id=uuid.uuid4(),
            user_id=user_id,
            name=name,
            scopes=scopes,
            token_hash=token_digest(text),
            shown=text[len(PREFIX) : len(PREFIX) + SHOWN_CHARACTERS],
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
        return token, text

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at

    def last_use_is_stale(self, now: datetime) -> bool:
        return self.last_used_at is None or now - self.last_used_at >= LAST_USED_PRECISION

    def allows(self, required: frozenset[Scope]) -> bool:
        """Every scope the route requires is granted; a route that requires none is one a
        personal token never reaches."""
        return bool(required) and required <= self.scopes
