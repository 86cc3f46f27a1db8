"""Rows written as revision 0004 of the schema wrote them, to test the migrations after it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

# The tables as revision 0004 left them (later revisions may add columns).
USERS_0004 = sa.table(
    "users",
    *(
        sa.column(name, kind)
        for name, kind in (
            ("id", sa.Uuid()),
            ("email", sa.String()),
            ("hashed_password", sa.String()),
            ("full_name", sa.String()),
            ("roles", sa.String()),
            ("is_active", sa.Boolean()),
            ("is_superuser", sa.Boolean()),
            ("is_verified", sa.Boolean()),
            ("created_at", sa.DateTime(timezone=True)),
            ("updated_at", sa.DateTime(timezone=True)),
            ("sessions_valid_after", sa.DateTime(timezone=True)),
            ("version", sa.Integer()),
        )
    ),
)
TOKENS_0004 = sa.table(
    "one_time_tokens",
    *(
        sa.column(name, kind)
        for name, kind in (
            ("id", sa.Uuid()),
            ("user_id", sa.Uuid()),
            ("purpose", sa.String()),
            ("token_hash", sa.String()),
            ("email", sa.String()),
            ("created_at", sa.DateTime(timezone=True)),
            ("expires_at", sa.DateTime(timezone=True)),
            ("used_at", sa.DateTime(timezone=True)),
        )
    ),
)
NOW = datetime(2026, 11, 29, tzinfo=UTC)


def user_row(email: str) -> dict[str, object]:
    return {
        "id": uuid.uuid4(),
        "email": email,
        "hashed_password": "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
        "full_name": None,
        "roles": "user",
        "is_active": True,
        "is_superuser": False,
        "is_verified": False,
        "created_at": NOW,
        "updated_at": NOW,
        "sessions_valid_after": NOW,
        "version": 1,
    }


def token_row(user: dict[str, object], email: str) -> dict[str, object]:
    return {
        "id": uuid.uuid4(),
        "user_id": user["id"],
        "purpose": "password_reset",
        "token_hash": uuid.uuid4().hex * 2,
        "email": email,
        "created_at": NOW,
        "expires_at": NOW + timedelta(minutes=30),
        "used_at": None,
    }


async def insert_rows(
    url: str, users: Sequence[dict[str, object]], tokens: Sequence[dict[str, object]] = ()
) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.insert(USERS_0004), list(users))
            if tokens:
                await connection.execute(sa.insert(TOKENS_0004), list(tokens))
    finally:
        await engine.dispose()
