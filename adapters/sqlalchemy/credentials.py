"""A user's sessions and personal tokens, and a personal token's holder, on the read side."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import bindparam, func, select

from adapters.sqlalchemy.personal_tokens import to_personal_token
from adapters.sqlalchemy.reads import Reads
from adapters.sqlalchemy.rows import plain_uuid, to_user
from adapters.sqlalchemy.tables import personal_tokens, refresh_sessions, users
from domain.personal_token import PersonalToken
from domain.session import DeviceSession
from domain.user import User

_s = refresh_sessions.c
_STARTED = func.coalesce(_s.started_at, _s.created_at)
# A family's live row is its one token neither spent nor revoked: the newest, issued by the
# last login or refresh. Expiry is checked on the rows read (a time parameter would keep the
# statement off asyncpg's path).
LIVE_SESSIONS = (
    select(_s.family_id, _STARTED, _s.created_at, _s.user_agent, _s.address, _s.expires_at)
    .where(
        _s.user_id == bindparam("user_id"),
        _s.replaced_at.is_(None),
        _s.revoked_at.is_(None),
    )
    .order_by(_STARTED.desc(), _s.family_id.desc())
)
TOKENS_OF_USER = (
    select(personal_tokens)
    .where(
        personal_tokens.c.user_id == bindparam("user_id"), personal_tokens.c.revoked_at.is_(None)
    )
    .order_by(personal_tokens.c.created_at.desc(), personal_tokens.c.id.desc())
)
# One index probe on the digest, and the holder with it.
TOKEN_HOLDER = select(users, personal_tokens).where(
    personal_tokens.c.token_hash == bindparam("token_hash"),
    users.c.id == personal_tokens.c.user_id,
)
_USER_COLUMNS = len(users.c)


class SqlAlchemyCredentialReader:
    def __init__(self, reads: Reads) -> None:
        self._reads = reads

    async def live_sessions(self, user_id: uuid.UUID, now: datetime) -> list[DeviceSession]:
        rows = await self._reads.rows(LIVE_SESSIONS, {"user_id": user_id})
        return [
            DeviceSession(
                id=plain_uuid(row[0]),
                created_at=row[1],
                last_used_at=row[2],
                user_agent=row[3],
                address=row[4],
            )
            for row in rows
            if row[5] > now
        ]

    async def personal_tokens(self, user_id: uuid.UUID) -> list[PersonalToken]:
        rows = await self._reads.rows(TOKENS_OF_USER, {"user_id": user_id})
        return [to_personal_token(row) for row in rows]

    async def token_holder(self, token_hash: str) -> tuple[User, PersonalToken] | None:
        rows = await self._reads.rows(TOKEN_HOLDER, {"token_hash": token_hash})
        if not rows:
            return None
        return to_user(rows[0]), to_personal_token(rows[0], _USER_COLUMNS)
