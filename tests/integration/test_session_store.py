"""One behaviour for every SessionStore: memory, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.ports import UnitOfWork, UserReader
from domain.session import RefreshSession, token_digest
from domain.user import User
from tests.integration.conftest import migrated
from tests.support.builders import a_session, a_user

UowFactory = Callable[[], UnitOfWork]
NOW = datetime(2026, 4, 1, 8, 0, 0, 250_000, tzinfo=UTC)


async def user_with_sessions(
    uow_factory: UowFactory, count: int, family: uuid.UUID | None = None
) -> tuple[User, list[RefreshSession]]:
    user = a_user(f"{uuid.uuid4().hex[:8]}@example.com", now=NOW)
    family = family or uuid.uuid4()
    sessions = [
        a_session(user, now=NOW, lifetime=timedelta(days=7), family_id=family) for _ in range(count)
    ]
    async with uow_factory() as uow:
        await uow.users.add(user)
        for session in sessions:
            assert await uow.sessions.start(session, sessions_valid_after=user.sessions_valid_after)
        await uow.commit()
    return user, sessions


async def test_round_trip_by_token_digest(uow_factory: UowFactory) -> None:
    _, [session] = await user_with_sessions(uow_factory, 1)
    async with uow_factory() as uow:
        assert await uow.sessions.get_by_token_hash(session.token_hash) == session
        assert await uow.sessions.get_by_token_hash(token_digest("other")) is None


async def test_a_session_is_spent_once(uow_factory: UowFactory) -> None:
    _, [session] = await user_with_sessions(uow_factory, 1)
    later = NOW + timedelta(minutes=1)
    async with uow_factory() as uow:
        assert await uow.sessions.spend(session.id, later)
        assert not await uow.sessions.spend(session.id, later)
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.sessions.get_by_token_hash(session.token_hash)
        assert stored is not None
        assert stored.replaced_at == later
        assert not await uow.sessions.spend(session.id, later)


async def test_an_uncommitted_spend_is_undone(uow_factory: UowFactory) -> None:
    _, [session] = await user_with_sessions(uow_factory, 1)
    async with uow_factory() as uow:
        assert await uow.sessions.spend(session.id, NOW)
    async with uow_factory() as uow:
        assert await uow.sessions.spend(session.id, NOW)


async def test_revoking_a_family_or_a_user(uow_factory: UowFactory) -> None:
    _, family_a = await user_with_sessions(uow_factory, 2)
    other, [elsewhere] = await user_with_sessions(uow_factory, 1)
    async with uow_factory() as uow:
        await uow.sessions.revoke_family(family_a[0].family_id, NOW)
        await uow.commit()
    async with uow_factory() as uow:
        for session in family_a:
            stored = await uow.sessions.get_by_token_hash(session.token_hash)
            assert stored is not None
            assert stored.revoked_at == NOW
            assert not await uow.sessions.spend(session.id, NOW)
        untouched = await uow.sessions.get_by_token_hash(elsewhere.token_hash)
        assert untouched is not None
        assert untouched.revoked_at is None
        await uow.sessions.revoke_user(other.id, NOW)
        await uow.commit()
    async with uow_factory() as uow:
        revoked = await uow.sessions.get_by_token_hash(elsewhere.token_hash)
        assert revoked is not None
        assert revoked.revoked_at == NOW


@pytest.mark.postgres
async def test_concurrent_spends_of_one_session_let_exactly_one_win(postgres_url: str) -> None:
    await migrated(postgres_url)
    engine = create_engine(postgres_url, pool_size=20)
    try:
        factory = lambda: SqlAlchemyUnitOfWork(engine)  # noqa: E731
        _, [session] = await user_with_sessions(factory, 1)

        async def spend() -> bool:
            async with factory() as uow:
                won = await uow.sessions.spend(session.id, NOW)
                await uow.commit()
                return won

        results = await asyncio.gather(*(spend() for _ in range(20)))
    finally:
        await engine.dispose()
    assert results.count(True) == 1


async def test_a_session_starts_only_while_the_user_is_as_read(uow_factory: UowFactory) -> None:
    user, _ = await user_with_sessions(uow_factory, 0)
    later = NOW + timedelta(minutes=1)

    def new_session() -> RefreshSession:
        return a_session(user, now=later, lifetime=timedelta(1))

    async with uow_factory() as uow:
        # Read before the user's sessions were ended: refused.
        ended = replace(user, sessions_valid_after=later, version=2)
        assert await uow.users.update(user, ended)
        assert not await uow.sessions.start(new_session(), sessions_valid_after=NOW)
        assert await uow.sessions.start(new_session(), sessions_valid_after=later)
        inactive = replace(ended, is_active=False, version=3)
        assert await uow.users.update(ended, inactive)
        assert not await uow.sessions.start(new_session(), sessions_valid_after=later)
        await uow.commit()
    async with uow_factory() as uow:
        absent = replace(new_session(), user_id=uuid.uuid4())
        assert not await uow.sessions.start(absent, sessions_valid_after=later)


async def test_signed_in_only_while_the_session_has_not_ended(
    uow_factory: UowFactory, user_reader: UserReader
) -> None:
    user, [session, _] = await user_with_sessions(uow_factory, 2)
    other, [elsewhere] = await user_with_sessions(uow_factory, 1)
    assert await user_reader.get_signed_in(user.id, session.family_id) == user
    # Another user's session does not sign this one in.
    assert await user_reader.get_signed_in(user.id, elsewhere.family_id) is None
    assert await user_reader.get_signed_in(other.id, session.family_id) is None
    async with uow_factory() as uow:
        await uow.sessions.revoke_family(session.family_id, NOW)
        await uow.commit()
    assert await user_reader.get_signed_in(user.id, session.family_id) is None
    assert await user_reader.get_signed_in(other.id, elsewhere.family_id) == other


@pytest.mark.postgres
async def test_a_family_ended_while_a_rotation_is_in_flight_ends_its_new_token(
    postgres_url: str,
) -> None:
    """The rotation spends its token and adds the next one; the logout, started while the
    rotation has not committed, must end the next one too."""
    await migrated(postgres_url)
    engine = create_engine(postgres_url, pool_size=5)
    try:
        factory = lambda: SqlAlchemyUnitOfWork(engine)  # noqa: E731
        for _ in range(5):
            user, [spent] = await user_with_sessions(factory, 1)
            following = a_session(
                user, now=NOW, lifetime=timedelta(days=1), family_id=spent.family_id
            )
            async with factory() as rotation:
                assert await rotation.sessions.spend(spent.id, NOW)
                assert await rotation.sessions.start(
                    following, sessions_valid_after=user.sessions_valid_after
                )

                async def logout(family: uuid.UUID) -> None:
                    async with factory() as uow:
                        await uow.sessions.revoke_family(family, NOW)
                        await uow.commit()

                ending = asyncio.create_task(logout(spent.family_id))
                await asyncio.sleep(0.2)  # the logout now waits on the rotation's row
                assert not ending.done()
                await rotation.commit()
            await ending
            async with factory() as uow:
                stored = await uow.sessions.get_by_token_hash(following.token_hash)
            assert stored is not None
            assert stored.revoked_at == NOW
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_a_session_ended_from_the_list_during_a_rotation_ends_its_new_token(
    postgres_url: str,
) -> None:
    """As a logout, ending a session of one's own by its id (``of_user``) waits for a
    rotation in flight and ends the token it adds; another user's id ends nothing."""
    await migrated(postgres_url)
    engine = create_engine(postgres_url, pool_size=5)
    try:
        factory = lambda: SqlAlchemyUnitOfWork(engine)  # noqa: E731
        for _ in range(3):
            user, [spent] = await user_with_sessions(factory, 1)
            following = a_session(
                user, now=NOW, lifetime=timedelta(days=1), family_id=spent.family_id
            )
            async with factory() as uow:
                assert (
                    await uow.sessions.revoke_family(spent.family_id, NOW, of_user=uuid.uuid4())
                    == 0
                )
            async with factory() as rotation:
                assert await rotation.sessions.spend(spent.id, NOW)
                assert await rotation.sessions.start(
                    following, sessions_valid_after=user.sessions_valid_after
                )

                async def end(family: uuid.UUID, owner: uuid.UUID) -> int:
                    async with factory() as uow:
                        ended = await uow.sessions.revoke_family(family, NOW, of_user=owner)
                        await uow.commit()
                        return ended

                ending = asyncio.create_task(end(spent.family_id, user.id))
                await asyncio.sleep(0.2)  # waits on the rotation's row
                assert not ending.done()
                await rotation.commit()
            assert await ending == 2
            async with factory() as uow:
                stored = await uow.sessions.get_by_token_hash(following.token_hash)
            assert stored is not None
            assert stored.revoked_at == NOW
    finally:
        await engine.dispose()
