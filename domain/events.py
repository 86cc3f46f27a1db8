"""What must happen after a change is committed: recorded with the change, in its
transaction, and handled afterwards, at least once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class UserRegistered:
    """A new account: it gets a welcome mail."""

    user_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class VerificationRequested:
    """An address to verify (a new account, a changed address, a resend): a link is mailed
    to it while the account still has it and it is not verified. ``counted``: the mail was
    counted against the account's hourly verification mails already (a resend is, before it
    is accepted); otherwise it is counted when it is sent."""

    user_id: uuid.UUID
    email: str
    counted: bool = False


@dataclass(frozen=True, slots=True)
class PasswordResetRequested:
    """Someone asked for a reset link for this address: one is mailed when it belongs to
    an active account, and nothing happens otherwise."""

    email: str


Event = UserRegistered | VerificationRequested | PasswordResetRequested
