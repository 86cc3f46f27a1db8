"""Single-use tokens mailed in links: how long they last, how they are issued, and when a
presented one is still usable."""

from __future__ import annotations

import secrets
from datetime import timedelta

from application.ports import Clock, UnitOfWork
from domain.errors import InvalidToken
from domain.one_time_token import OneTimeToken, TokenPurpose
from domain.user import User

RESET_LIFETIME = timedelta(minutes=30)
VERIFICATION_LIFETIME = timedelta(hours=24)


def new_token() -> str:
    """256 random bits, URL-safe: what the mailed link carries."""
    return secrets.token_urlsafe(32)


async def issue_token(
    uow: UnitOfWork, user: User, purpose: TokenPurpose, lifetime: timedelta, clock: Clock
) -> str:
    token = new_token()
    record = OneTimeToken.issue(
        user_id=user.id,
        purpose=purpose,
        token=token,
        email=str(user.email),
        now=clock.now(),
        lifetime=lifetime,
    )
    await uow.one_time_tokens.add(record)
    return token


async def usable_token(
    uow: UnitOfWork, digest: str, purpose: TokenPurpose, clock: Clock, *, lock: bool = False
) -> tuple[OneTimeToken, User]:
    record = await uow.one_time_tokens.get_by_token_hash(digest)
    if record is None or not record.is_usable(purpose, clock.now()):
        raise InvalidToken()
    user = await uow.users.get(record.user_id, for_update=lock)
    if user is None or not user.is_active or str(user.email) != record.email:
        raise InvalidToken()
    return record, user


def minutes(lifetime: timedelta) -> int:
    return int(lifetime.total_seconds() // 60)
