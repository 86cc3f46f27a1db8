"""Housekeeping, on every backend: expired sessions and one-time tokens are deleted (spent
ones too, once expired), and nothing else, counted row by row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from application.ports import UnitOfWorkFactory
from application.use_cases.housekeeping.delete_expired import DeleteExpired, DeleteExpiredCommand
from domain.one_time_token import TokenPurpose
from tests.support.builders import a_session, a_token, a_user
from tests.support.clock import FixedClock


async def test_housekeeping_deletes_expired_sessions_and_tokens_and_keeps_the_rest(
    uow_factory: UnitOfWorkFactory,
) -> None:
    now = datetime.now(UTC)
    user = a_user(now=now)
    async with uow_factory() as uow:
        await uow.users.add(user)
        for n, (lifetime, spent) in enumerate(
            [(-2, False), (-1, True), (1, False), (1, True), (3, False)]
        ):
            start = now - timedelta(days=5)
            session = a_session(
                user, now=start, expires_at=now + timedelta(hours=lifetime), token_hash=f"{n:064d}"
            )
            assert await uow.sessions.start(session, sessions_valid_after=user.sessions_valid_after)
            if spent:
                assert await uow.sessions.spend(session.id, start)
            token = a_token(
                user,
                purpose=TokenPurpose.PASSWORD_RESET,
                now=start,
                expires_at=now + timedelta(hours=lifetime),
                token_hash=f"{n + 10:064d}",
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
