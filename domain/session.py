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
    when the token was spent on a refresh; ``revoked_at`` when its family was ended.
    ``started_at`` is the family's login, carried along by each rotation; ``user_agent`` and
    ``address`` are those of the login or refresh that issued this token (the device's)."""

    id: uuid.UUID
    user_id: uuid.UUID
    family_id: uuid.UUID
    token_hash: str
    created_at: datetime
    expires_at: datetime
    replaced_at: datetime | None = None
    revoked_at: datetime | None = None
    started_at: datetime | None = None
    user_agent: str | None = None
    address: str | None = None

    @classmethod
    def start(
        cls,
        *,
        user_id: uuid.UUID,
        token: str,
        now: datetime,
        expires_at: datetime,
        family_id: uuid.UUID | None = None,
        started_at: datetime | None = None,
        user_agent: str | None = None,
        address: str | None = None,
    ) -> RefreshSession:
        return cls(
            id=uuid.uuid4(),
            user_id=user_id,
            family_id=family_id or uuid.uuid4(),
            token_hash=token_digest(token),
            created_at=now,
            expires_at=expires_at,
            started_at=started_at or now,
            user_agent=user_agent,
            address=address,
        )

    @property
    def is_spent(self) -> bool:
        return self.replaced_at is not None

    def is_live(self, now: datetime) -> bool:
        return self.replaced_at is None and self.revoked_at is None and now < self.expires_at


@dataclass(frozen=True, slots=True)
class DeviceSession:
    """A live session (a refresh-token family) as its user sees it in the list: ``id`` is
    the family, the ``sid`` of its access tokens; ``last_used_at`` the last login or
    refresh (requests with its access tokens are not counted: they stay one read)."""

    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    user_agent: str | None
    address: str | None
