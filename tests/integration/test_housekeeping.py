"""Housekeeping, on every backend: expired sessions and one-time tokens are deleted (spent
ones too, once expired), and nothing else, counted row by row."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from application.ports import UnitOfWorkFactory
from application.use_cases.housekeeping.delete_expired import DeleteExpired, DeleteExpiredCommand
from domain.email import Email
from domain.one_time_token import OneTimeToken, TokenPurpose
from domain.session import RefreshSession
from domain.user import User
from tests.support.clock import FixedClock


async def test_housekeeping_deletes_expired_sessions_and_tokens_and_keeps_the_rest(
    uow_factory: UnitOfWorkFactory,
) -> None:
    now = datetime.now(UTC)
    user = User.register(
        email=Email("ada@example.com"), hashed_password="h", full_name=None, now=now
    )
    async with uow_factory() as uow:
        await uow.users.add(user)
        for n, (lifetime, spent) in enumerate(
            [(-2, False), (-1, True), (1, False), (1, True), (3, False)]
        ):
            start = now - timedelta(days=5)
            session = RefreshSession(
                id=uuid.uuid4(),
                user_id=user.id,
                family_id=uuid.uuid4(),
                token_hash=f"{n:064d}",
                created_at=start,
                expires_at=now + timedelta(hours=lifetime),
            )
            assert await uow.sessions.start(session, sessions_valid_after=user.sessions_valid_after)
            if spent:
                assert await uow.sessions.spend(session.id, start)
            token = OneTimeToken(
                id=uuid.uuid4(),
                user_id=user.id,
                purpose=TokenPurpose.PASSWORD_RESET,
                token_hash=f"{n + 10:064d}",
                email="ada@example.com",
                created_at=start,
                expires_at=now + timedelta(hours=lifetime),
                used_at=start if spent else None,
            )
            await uow.one_time_tokens.add(token)
        await uow.commit()
    deleted = await DeleteExpired(uow_factory, FixedClock(now)).execute(DeleteExpiredCommand())
    assert (deleted.sessions, deleted.tokens) == (2, 2)
    again = await DeleteExpired(uow_factory, FixedClock(now)).execute(DeleteExpiredCommand())
    assert (again.sessions, again.tokens) == (0, 0)
    async with uow_factory() as uow:
        for n in range(5):
            kept = await uow.sessions.get_by_token_hash(f"{n:064d}")
            assert (kept is not None) == (n >= 2)
            token_kept = await uow.one_time_tokens.get_by_token_hash(f"{n + 10:064d}")
            assert (token_kept is not None) == (n >= 2)
