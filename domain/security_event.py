"""The security audit trail: what happened to an account, who did it, and from where.

Events are appended, never changed. Their details are a small JSON object that never holds
a secret: a password, a token, a hash or a code stays out of the trail however it is named.
"""

from __future__ import annotations

import enum
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

MAX_USER_AGENT_LENGTH = 256
MAX_ADDRESS_LENGTH = 64
_MAX_DETAIL_TEXT = 200
# A detail whose name holds one of these is refused: the trail must never keep a secret.
_SECRET_WORDS = ("password", "token", "hash", "code", "secret", "otp", "key")


class SecurityEventType(enum.StrEnum):
    """Every kind of event the trail holds; a new kind is one line here."""

    LOGIN_SUCCEEDED = "login.succeeded"
    LOGIN_FAILED = "login.failed"
    LOGIN_THROTTLED = "login.throttled"
    PASSWORD_CHANGED = "password.changed"  # noqa: S105 (an event name)
    PASSWORD_RESET = "password.reset"  # noqa: S105 (an event name)
    SESSION_ENDED = "session.ended"
    SESSIONS_ENDED = "sessions.ended"
    REFRESH_TOKEN_REUSED = "refresh_token.reused"  # noqa: S105 (an event name)
    USER_ROLES_CHANGED = "user.roles_changed"
    USER_ACTIVATED = "user.activated"
    USER_DEACTIVATED = "user.deactivated"
    USER_DELETED = "user.deleted"
    USER_REGISTERED = "user.registered"
    EMAIL_VERIFIED = "email.verified"
    TOKEN_CREATED = "token.created"  # noqa: S105 (an event name)
    TOKEN_REVOKED = "token.revoked"  # noqa: S105 (an event name)
    MFA_SETUP_STARTED = "mfa.setup_started"
    MFA_ENABLED = "mfa.enabled"
    MFA_DISABLED = "mfa.disabled"
    MFA_FAILED = "mfa.failed"
    MFA_THROTTLED = "mfa.throttled"
    MFA_RECOVERY_CODE_USED = "mfa.recovery_code_used"
    MFA_RECOVERY_CODES_RENEWED = "mfa.recovery_codes_renewed"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a request came from: the client address as the service resolved it (behind
    trusted proxies) and the user agent it named, cleaned and bounded. Both None for the
    command line and the service's own jobs."""

    address: str | None = None
    user_agent: str | None = None

    @classmethod
    def of(cls, address: str | None, user_agent: str | None) -> Origin:
        return cls(
            address=address[:MAX_ADDRESS_LENGTH] if address else None,
            user_agent=clean_user_agent(user_agent),
        )


NOWHERE = Origin()


def clean_user_agent(text: str | None) -> str | None:
    """Control and other invisible format characters removed (a log or a terminal showing
    the trail must not be steered by them), surrogates dropped, at most
    ``MAX_USER_AGENT_LENGTH`` characters; None when nothing is left."""
    if not text:
        return None
    kept = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    kept = kept.strip()[:MAX_USER_AGENT_LENGTH]
    return kept or None


@dataclass(frozen=True, slots=True)
class SecurityEvent:
    """``user_id``: the account it happened to (None once only the record of a deleted
    account is left); ``actor_id``: who did it (the user, an administrator), None for the
    system or the command line."""

    id: uuid.UUID
    type: SecurityEventType
    user_id: uuid.UUID | None
    actor_id: uuid.UUID | None
    address: str | None
    user_agent: str | None
    at: datetime
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def record(
        cls,
        type: SecurityEventType,
        *,
        user_id: uuid.UUID | None,
        actor_id: uuid.UUID | None,
        origin: Origin,
        at: datetime,
        details: dict[str, Any] | None = None,
    ) -> SecurityEvent:
        return cls(
            id=uuid.uuid4(),
            type=type,
            user_id=user_id,
            actor_id=actor_id,
            address=origin.address,
            user_agent=origin.user_agent,
            at=at,
            details=checked_details(details or {}),
        )


def checked_details(details: dict[str, Any]) -> dict[str, Any]:
    """Flat values only (text, numbers, booleans, lists of text), short, and no name that
    suggests a secret: a mistake here is a programming error, raised at once."""
    for name, value in details.items():
        lowered = name.lower()
        if any(word in lowered for word in _SECRET_WORDS):
            raise ValueError(f"a security event detail may not be a secret: {name}")
        values = value if isinstance(value, list) else [value]
        for one in values:
            if not isinstance(one, str | int | bool) and one is not None:
                raise ValueError(f"a security event detail must be plain: {name}")
            if isinstance(one, str) and len(one) > _MAX_DETAIL_TEXT:
                raise ValueError(f"a security event detail is too long: {name}")
    return dict(details)
