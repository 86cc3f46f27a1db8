"""One behaviour for every UserRepository and UnitOfWork: memory, SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from application.ports import UnitOfWork
from domain.email import Email
from domain.errors import EmailAlreadyRegistered
from domain.role import Role
from domain.user import User
from tests.support.builders import a_user

UowFactory = Callable[[], UnitOfWork]
NOW = datetime(2026, 5, 17, 12, 30, 45, 123456, tzinfo=UTC)


make_user = partial(a_user, hashed_password="$argon2id$hash", full_name="Ada", now=NOW)


async def add(uow_factory: UowFactory, *users: User) -> None:
    async with uow_factory() as uow:
        for user in users:
            await uow.users.add(user)
        await uow.commit()


async def test_added_user_reads_back_equal_with_aware_utc_times(uow_factory: UowFactory) -> None:
    user = make_user(admin=True)
    await add(uow_factory, user)
    async with uow_factory() as uow:
        by_id = await uow.users.get(user.id)
        by_email = await uow.users.get_by_email(Email("ADA@example.com"))
    assert by_id == user
    assert by_email == user
    assert by_id is not None
    assert by_id.created_at.tzinfo is not None
    assert by_id.created_at.utcoffset() == timedelta(0)
    assert by_id.roles == frozenset({Role.USER, Role.ADMIN})


async def test_unknown_user_is_none(uow_factory: UowFactory) -> None:
    await add(uow_factory, make_user())
    async with uow_factory() as uow:
        assert await uow.users.get(make_user().id) is None
        assert await uow.users.get_by_email(Email("nobody@example.com")) is None


async def test_taken_email_is_refused_and_the_first_account_is_kept(
    uow_factory: UowFactory,
) -> None:
    first = make_user("grace@example.com")
    await add(uow_factory, first)
    with pytest.raises(EmailAlreadyRegistered):
        await add(uow_factory, make_user("grace@example.com"))
    async with uow_factory() as uow:
        assert await uow.users.get_by_email(Email("grace@example.com")) == first


async def test_changes_without_commit_are_rolled_back(uow_factory: UowFactory) -> None:
    user = make_user()
    async with uow_factory() as uow:
        await uow.users.add(user)
    async with uow_factory() as uow:
        assert await uow.users.get(user.id) is None


async def test_an_error_inside_the_block_loses_the_whole_transaction(
    uow_factory: UowFactory,
) -> None:
    kept, lost = make_user("kept@example.com"), make_user("lost@example.com")
    await add(uow_factory, kept)
    with pytest.raises(RuntimeError):
        async with uow_factory() as uow:
            await uow.users.add(lost)
            changed = dataclasses.replace(kept, full_name="Changed")
            assert await uow.users.update(kept, changed)
            raise RuntimeError("boom")
    async with uow_factory() as uow:
        assert await uow.users.get(lost.id) is None
        assert await uow.users.get(kept.id) == kept


async def test_update_stores_every_changed_field(uow_factory: UowFactory) -> None:
    user = make_user()
    await add(uow_factory, user)
    later = NOW + timedelta(hours=1)
    changed = dataclasses.replace(
        user,
        email=Email("new@example.com"),
        hashed_password="$argon2id$other",
        full_name=None,
        roles=frozenset({Role.USER, Role.ADMIN}),
        is_active=False,
        is_verified=True,
        updated_at=later,
        sessions_valid_after=later,
        version=2,
    )
    async with uow_factory() as uow:
        assert await uow.users.update(user, changed)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.users.get(user.id) == changed
        assert await uow.users.get_by_email(Email("ada@example.com")) is None


async def test_update_to_a_taken_email_is_refused(uow_factory: UowFactory) -> None:
    ada, bob = make_user("ada@example.com"), make_user("bob@example.com")
    await add(uow_factory, ada, bob)
    with pytest.raises(EmailAlreadyRegistered):
        async with uow_factory() as uow:
            await uow.users.update(bob, dataclasses.replace(bob, email=Email("ada@example.com")))
            await uow.commit()
    async with uow_factory() as uow:
        assert await uow.users.get(bob.id) == bob


async def test_update_writes_only_the_fields_that_changed(uow_factory: UowFactory) -> None:
    # Two writers read version 1. The first ends the sessions; the second, from its stale
    # read, renames: it stores nothing (the version moved), and a retry on the newer row
    # keeps the first writer's change.
    user = make_user()
    await add(uow_factory, user)
    later = NOW + timedelta(hours=1)
    ended = dataclasses.replace(user, sessions_valid_after=later, version=2)
    renamed = dataclasses.replace(user, full_name="Renamed", version=2)
    async with uow_factory() as uow:
        assert await uow.users.update(user, ended)
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.users.update(user, renamed)
        await uow.commit()
        current = await uow.users.get(user.id)
    assert current == ended
    async with uow_factory() as uow:
        assert await uow.users.update(
            ended, dataclasses.replace(ended, full_name="Renamed", version=3)
        )
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.users.get(user.id)
    assert stored is not None
    assert (stored.full_name, stored.sessions_valid_after, stored.version) == ("Renamed", later, 3)


async def test_update_of_a_deleted_user_stores_nothing(uow_factory: UowFactory) -> None:
    user = make_user()
    await add(uow_factory, user)
    async with uow_factory() as uow:
        assert await uow.users.delete(user.id)
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.users.update(user, dataclasses.replace(user, full_name="X"))


async def test_delete_with_a_stale_version_deletes_nothing(uow_factory: UowFactory) -> None:
    user = make_user()
    await add(uow_factory, user)
    async with uow_factory() as uow:
        assert not await uow.users.delete(user.id, expected_version=user.version + 1)
        assert await uow.users.delete(user.id, expected_version=user.version)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.users.get(user.id) is None


async def test_count_admins_counts_active_admins_only(uow_factory: UowFactory) -> None:
    active_admin = make_user("a1@example.com", admin=True)
    inactive_admin = dataclasses.replace(make_user("a2@example.com", admin=True), is_active=False)
    await add(uow_factory, active_admin, inactive_admin, make_user("u@example.com"))
    async with uow_factory() as uow:
        assert await uow.users.count_admins() == 1
