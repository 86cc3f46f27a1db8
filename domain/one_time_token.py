"""Single-use tokens mailed to a user: password reset and email verification."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.session import token_digest


class TokenPurpose(enum.StrEnum):
    PASSWORD_RESET = "password_reset"  # noqa: S105 (a name, not a secret)
    EMAIL_VERIFICATION = "email_verification"
    # The token between a login's password and its second factor, spent by the second.
    MFA_LOGIN = "mfa_login"


@dataclass(slots=True)
class OneTimeToken:
    """Stored as a digest only. ``email`` is the address the token was mailed to: a
    verification token proves that address, not whatever the account's address is now."""

    id: uuid.UUID
    user_id: uuid.UUID
    purpose: TokenPurpose
    token_hash: str
    email: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None

    @classmethod
    def issue(
        cls,
        *,
        user_id: uuid.UUID,
        purpose: TokenPurpose,
        token: str,
        email: str,
        now: datetime,
        lifetime: timedelta,
    ) -> OneTimeToken:
        return cls(
            id=uuid.uuid4(),
            user_id=user_id,
            purpose=purpose,
            token_hash=token_digest(token),
            email=email,
            created_at=now,
            expires_at=now + lifetime,
        )

    def is_usable(self, purpose: TokenPurpose, now: datetime) -> bool:
        return self.purpose is purpose and self.used_at is None and now < self.expires_at
