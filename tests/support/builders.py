"""The users, items, sessions and single-use tokens the tests start from: sensible defaults,
any field overridden by keyword. They are made by the domain's own constructors
(``User.register``, ``Item.create``, ...), so a test's data obeys the domain's rules unless
an override says otherwise."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.email import Email
from domain.item import Item
from domain.one_time_token import OneTimeToken, TokenPurpose
from domain.session import RefreshSession
from domain.user import User

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def a_user(
    email: str = "ada@example.com",
    *,
    hashed_password: str = "h",  # noqa: S107 (a stand-in: no test verifies it)
    full_name: str | None = None,
    now: datetime = NOW,
    admin: bool = False,
    **fields: Any,
) -> User:
    """A registered account; ``fields`` replace any of its attributes afterwards
    (``is_active=False``, ``version=3``, ...)."""
    user = User.register(
        email=Email(email),
        hashed_password=hashed_password,
        full_name=full_name,
        now=now,
        admin=admin,
    )
    return dataclasses.replace(user, **fields) if fields else user


def an_item(
    owner: User | uuid.UUID | None = None,
    *,
    title: str = "t",
    description: str | None = None,
    now: datetime = NOW,
    **fields: Any,
) -> Item:
    """An item of ``owner`` (a user or an id; a new id when None)."""
    owner_id = owner.id if isinstance(owner, User) else owner or uuid.uuid4()
    item = Item.create(owner_id=owner_id, title=title, description=description, now=now)
    return dataclasses.replace(item, **fields) if fields else item


def a_session(
    user: User | uuid.UUID,
    *,
    token: str | None = None,
    now: datetime = NOW,
    lifetime: timedelta = timedelta(days=7),
    family_id: uuid.UUID | None = None,
    **fields: Any,
) -> RefreshSession:
    """A refresh session of ``user`` started at ``now`` for ``lifetime``, under a token of its
    own unless one is given."""
    session = RefreshSession.start(
        user_id=user.id if isinstance(user, User) else user,
        token=token or f"token-{uuid.uuid4()}",
        now=now,
        expires_at=now + lifetime,
        family_id=family_id,
    )
    return dataclasses.replace(session, **fields) if fields else session


def a_token(
    user: User,
    *,
    purpose: TokenPurpose = TokenPurpose.PASSWORD_RESET,
    token: str | None = None,
    now: datetime = NOW,
    lifetime: timedelta = timedelta(minutes=30),
    **fields: Any,
) -> OneTimeToken:
    """A single-use token mailed to ``user``'s address, issued at ``now`` for ``lifetime``."""
    issued = OneTimeToken.issue(
        user_id=user.id,
        purpose=purpose,
        token=token or f"token-{uuid.uuid4()}",
        email=str(user.email),
        now=now,
        lifetime=lifetime,
    )
    return dataclasses.replace(issued, **fields) if fields else issued
