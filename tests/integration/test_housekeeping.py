"""Housekeeping, on every backend: expired sessions and one-time tokens are deleted (spent
ones too, once expired), and nothing else, counted row by row."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from application.ports import UnitOfWorkFactory
from application.use_cases.housekeeping.delete_expired import DeleteExpired, DeleteExpiredCommand
from domain.one_time_token import TokenPurpose
from domain.personal_token import PersonalToken, Scope
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


async def test_housekeeping_deletes_tokens_ended_over_30_days_ago_in_batches(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """Expired or revoked more than 30 days ago: deleted, one batch at a time (of 1 here);
    live, or ended within the 30 days: kept, still listed to their owner as ended."""
    now = datetime.now(UTC)
    user = a_user(now=now)
    long_ago, lately = now - timedelta(days=31), now - timedelta(days=29)
    shapes = {  # name: (expires_at, revoked_at)
        "expired-long-ago": (long_ago, None),
        "revoked-long-ago": (now + timedelta(days=9), long_ago),
        "expired-and-revoked-long-ago": (long_ago, long_ago - timedelta(days=1)),
        "live": (now + timedelta(days=9), None),
        "expired-lately": (lately, None),
        "revoked-lately": (now + timedelta(days=9), lately),
    }
    ids = {}
    async with uow_factory() as uow:
        await uow.users.add(user)
        for n, (name, (expires_at, revoked_at)) in enumerate(shapes.items()):
            token = PersonalToken(
                id=uuid.uuid4(),
                user_id=user.id,
                name=name,
                scopes=frozenset({Scope.ITEMS_READ}),
                token_hash=f"{n:064d}",
                shown="keel_pat",
                created_at=long_ago - timedelta(days=60),
                expires_at=expires_at,
            )
            await uow.personal_tokens.add(token)
            if revoked_at is not None:
                assert await uow.personal_tokens.revoke(token.id, user.id, revoked_at)
            ids[name] = token.id
        await uow.commit()
    clock = FixedClock(now)
    deleted = await DeleteExpired(uow_factory, clock, batch_size=1).execute(DeleteExpiredCommand())
    assert deleted.personal_tokens == 3
    again = await DeleteExpired(uow_factory, clock, batch_size=1).execute(DeleteExpiredCommand())
    assert again.personal_tokens == 0
    async with uow_factory() as uow:
        # Still there, so revocable: the live one and the one expired lately.
        assert await uow.personal_tokens.revoke(ids["live"], user.id, now)
        assert await uow.personal_tokens.revoke(ids["expired-lately"], user.id, now)
        await uow.commit()
    async with uow_factory() as uow:
        # Three are left in all (the one revoked lately among them).
        assert await uow.personal_tokens.delete_ended_before(now + timedelta(days=99), 10) == 3
