"""Refresh sessions: one row per refresh token, chained into families by rotation."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime


def token_digest(token: str) -> str:
    """What is stored instead of the token: a leaked table gives no usable token."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(slots=True)
class RefreshSession:
    """``family_id`` is shared by every token rotated from one login. ``replaced_at`` is set
    when the token was spent on a refresh; ``revoked_at`` when its family was ended."""

    id: uuid.UUID
    user_id: uuid.UUID
    family_id: uuid.UUID
    token_hash: str
    created_at: datetime
    expires_at: datetime
    replaced_at: datetime | None = None
    revoked_at: datetime | None = None

    @classmethod
    def start(
        cls,
        *,
        user_id: uuid.UUID,
        token: str,
        now: datetime,
        expires_at: datetime,
        family_id: uuid.UUID | None = None,
    ) -> RefreshSession:
        return cls(
            id=uuid.uuid4(),
            user_id=user_id,
            family_id=family_id or uuid.uuid4(),
            token_hash=token_digest(token),
            created_at=now,
            expires_at=expires_at,
        )

    @property
    def is_spent(self) -> bool:
        return self.replaced_at is not None

    def is_live(self, now: datetime) -> bool:
        return self.replaced_at is None and self.revoked_at is None and now < self.expires_at
