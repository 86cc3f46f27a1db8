"""The outbox, on every backend: events are stored by the commit of the change that caused
them and only by it, and each entry is taken by one relay only."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from functools import partial

import pytest

from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.outbox import decode
from application.ports import EventRecorder, UnitOfWorkFactory
from domain.events import PasswordResetRequested, UserRegistered, VerificationRequested
from tests.integration.conftest import migrated
from tests.support.builders import a_user

NOW = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)


make_user = partial(a_user, now=NOW)


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
        taken = await uow.outbox.take(10)
        await uow.commit()
    events = [decode(entry.kind, entry.payload) for entry in taken]
    assert sorted(map(repr, events)) == sorted(
        map(repr, [UserRegistered(kept.id), VerificationRequested(kept.id, "kept@example.com")])
    )


async def test_a_take_is_undone_with_its_transaction_and_keeps_the_order(
    uow_factory: UnitOfWorkFactory,
) -> None:
    for n in range(3):
        await emit(uow_factory, PasswordResetRequested(f"u{n}@example.com"))
    async with uow_factory() as uow:
        assert len(await uow.outbox.take(10)) == 3  # not committed: put back
    async with uow_factory() as uow:
        first = await uow.outbox.take(2)
        await uow.commit()
    async with uow_factory() as uow:
        rest = await uow.outbox.take(10)
        await uow.commit()
    emails = [decode(e.kind, e.payload) for e in [*first, *rest]]
    assert emails == [PasswordResetRequested(f"u{n}@example.com") for n in range(3)]
    async with uow_factory() as uow:
        assert await uow.outbox.take(10) == []


@pytest.mark.postgres
async def test_concurrent_takes_never_hand_out_one_entry_twice(postgres_url: str) -> None:
    await migrated(postgres_url)
    engine = create_engine(postgres_url, pool_size=20)
    try:
        factory = lambda: SqlAlchemyUnitOfWork(engine)  # noqa: E731
        for _ in range(5):
            for n in range(60):
                await emit(factory, PasswordResetRequested(f"u{n}@example.com"))

            async def take() -> list[uuid.UUID]:
                async with factory() as uow:
                    entries = await uow.outbox.take(7)
                    await asyncio.sleep(0.01)  # hold the rows while the others take
                    await uow.commit()
                return [entry.id for entry in entries]

            taken: list[uuid.UUID] = []
            while len(taken) < 60:
                rounds = await asyncio.gather(*(take() for _ in range(12)))
                taken += [i for ids in rounds for i in ids]
            assert len(taken) == len(set(taken)) == 60
    finally:
        await engine.dispose()


async def emit(factory: UnitOfWorkFactory, event: PasswordResetRequested) -> None:
    async with factory() as uow:
        uow.emit(event)
        await uow.commit()


async def test_the_event_recorder_stores_its_events_and_nothing_else(
    uow_factory: UnitOfWorkFactory, event_recorder: EventRecorder
) -> None:
    """The request that only records (a reset request) stores its events by one INSERT,
    with no transaction around it; with nothing to record, it has nothing to commit."""
    await event_recorder.record(
        PasswordResetRequested("a@example.com"), PasswordResetRequested("b@example.com")
    )
    with pytest.raises(RuntimeError):
        await event_recorder.record()
    async with uow_factory() as uow:
        taken = await uow.outbox.take(10)
        await uow.commit()
    assert [decode(e.kind, e.payload) for e in taken] == [
        PasswordResetRequested("a@example.com"),
        PasswordResetRequested("b@example.com"),
    ]
