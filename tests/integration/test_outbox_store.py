"""The outbox, on every backend: events are stored by the commit of the change that caused
them and only by it, and claims hand each entry to one runner at a time."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.outbox import decode
from application.ports import UnitOfWorkFactory
from domain.email import Email
from domain.events import PasswordResetRequested, UserRegistered, VerificationRequested
from domain.user import User
from tests.integration.conftest import migrated

NOW = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)


def make_user(email: str = "ada@example.com") -> User:
    return User.register(email=Email(email), hashed_password="h", full_name=None, now=NOW)


async def test_events_are_stored_by_the_commit_and_only_by_it(
    uow_factory: UnitOfWorkFactory,
) -> None:
    kept, lost = make_user("kept@example.com"), make_user("lost@example.com")
    async with uow_factory() as uow:
        await uow.users.add(lost)
        uow.emit(UserRegistered(lost.id))  # rolled back with the user
    with pytest.raises(RuntimeError):
        async with uow_factory() as uow:
            await uow.users.add(lost)
            uow.emit(UserRegistered(lost.id))
            raise RuntimeError("boom")
    async with uow_factory() as uow:
        await uow.users.add(kept)
        uow.emit(UserRegistered(kept.id))
        uow.emit(VerificationRequested(kept.id, "kept@example.com"))
        await uow.commit()
    async with uow_factory() as uow:
        claimed = await uow.outbox.claim(datetime.now(UTC) + timedelta(seconds=1), LEASE, 10)
        await uow.commit()
    events = [decode(entry.kind, entry.payload) for entry in claimed]
    assert sorted(map(repr, events)) == sorted(
        map(repr, [UserRegistered(kept.id), VerificationRequested(kept.id, "kept@example.com")])
    )
    assert all(entry.attempts == 1 for entry in claimed)


async def test_a_claim_hides_an_entry_for_its_lease_then_it_is_claimed_again(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await emit(uow_factory, PasswordResetRequested("ada@example.com"))
    later = datetime.now(UTC) + timedelta(seconds=1)
    async with uow_factory() as uow:
        [entry] = await uow.outbox.claim(later, LEASE, 10)
        assert await uow.outbox.claim(later, LEASE, 10) == []
        await uow.commit()
    async with uow_factory() as uow:
        # The runner died: once the lease ends, another one gets it, one attempt later.
        [again] = await uow.outbox.claim(later + LEASE, LEASE, 10)
        assert (again.id, again.attempts) == (entry.id, 2)
        await uow.outbox.retry(again.id, later + LEASE + timedelta(hours=1), "smtp down")
        assert await uow.outbox.claim(later + LEASE + timedelta(minutes=59), LEASE, 10) == []
        [third] = await uow.outbox.claim(later + LEASE + timedelta(hours=1), LEASE, 10)
        await uow.outbox.fail(third.id, later, "gave up")
        assert await uow.outbox.claim(later + timedelta(days=1), LEASE, 10) == []
        await uow.commit()


async def test_a_handled_entry_is_gone(uow_factory: UnitOfWorkFactory) -> None:
    await emit(uow_factory, PasswordResetRequested("ada@example.com"))
    later = datetime.now(UTC) + timedelta(seconds=1)
    async with uow_factory() as uow:
        [entry] = await uow.outbox.claim(later, LEASE, 10)
        await uow.outbox.done(entry.id)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.outbox.claim(later + timedelta(days=1), LEASE, 10) == []


@pytest.mark.postgres
async def test_concurrent_claims_never_hand_out_one_entry_twice(postgres_url: str) -> None:
    await migrated(postgres_url)
    engine = create_engine(postgres_url, pool_size=20)
    try:
        factory = lambda: SqlAlchemyUnitOfWork(engine)  # noqa: E731
        for _ in range(5):
            for n in range(60):
                await emit(factory, PasswordResetRequested(f"u{n}@example.com"))
            later = datetime.now(UTC) + timedelta(seconds=1)

            async def claim(later: datetime) -> list[uuid.UUID]:
                async with factory() as uow:
                    entries = await uow.outbox.claim(later, LEASE, 7)
                    await asyncio.sleep(0.01)  # hold the rows while the others claim
                    await uow.commit()
                return [entry.id for entry in entries]

            claimed = [
                i for ids in await asyncio.gather(*(claim(later) for _ in range(12))) for i in ids
            ]
            assert len(claimed) == len(set(claimed)) == 60
            async with factory() as uow:
                for entry_id in claimed:
                    await uow.outbox.done(entry_id)
                await uow.commit()
    finally:
        await engine.dispose()


async def emit(factory: UnitOfWorkFactory, event: PasswordResetRequested) -> None:
    async with factory() as uow:
        uow.emit(event)
        await uow.commit()
