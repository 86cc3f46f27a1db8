"""Mail the use cases send: what it is about and to whom. How it reads (subject, text and
HTML parts, links) is the sender adapter's business."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class MailKind(enum.StrEnum):
    WELCOME = "welcome"
    VERIFY_EMAIL = "verify_email"
    PASSWORD_RESET = "password_reset"  # noqa: S105 (a name, not a secret)
    TEST = "test"


@dataclass(frozen=True, slots=True)
class Mail:
    """``token`` is the one-time token a verification or reset link carries (never stored in
    clear); ``expires_in_minutes`` how long it works."""

    kind: MailKind
    to: str
    full_name: str | None = None
    token: str | None = None
    expires_in_minutes: int | None = None


class MailDeliveryFailed(Exception):
    """The mail could not be handed to the mail server (unreachable, refused, timed out)."""
