"""Reading, listing, changing and deleting accounts, over the memory adapters, through the
container."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.memory.store import InMemoryStore
from application.changes import UserChanges
from application.use_cases.accounts.delete_user import DeleteUserCommand
from application.use_cases.accounts.get_user import GetUserCommand
from application.use_cases.accounts.list_users import ListUsersCommand
from application.use_cases.accounts.update_user import UpdateUserCommand
from application.use_cases.items.create_item import CreateItemCommand
from application.use_cases.sessions.get_current_user import GetCurrentUserCommand
from application.use_cases.sessions.login import LoginCommand
from domain.email import Email
from domain.errors import (
    AuthenticationFailed,
    EmailAlreadyRegistered,
    LastAdministrator,
    PermissionDenied,
    UserNotFound,
    ValidationFailed,
    WrongCurrentPassword,
)
from domain.pagination import PageRequest
from domain.role import Role
from entrypoints.container import Container
from tests.support.accounts import PASSWORD, account
from tests.support.clock import FixedClock


async def test_update_changes_only_the_fields_given(
    container: Container, store: InMemoryStore, clock: FixedClock
) -> None:
    alice = await account(container, "alice@example.com")
    clock.advance(timedelta(minutes=1))
    updated = await container.update_user().execute(
        UpdateUserCommand(actor=alice, user_id=alice.id, changes=UserChanges(full_name="Alice A."))
    )
    assert updated.full_name == "Alice A."
    assert updated.email == alice.email
    assert updated.hashed_password == alice.hashed_password
    assert updated.updated_at == clock.now()
    assert updated.sessions_valid_after == alice.sessions_valid_after
    assert store.users[alice.id] == updated


async def test_a_new_email_must_be_free_and_is_unverified_again(
    container: Container, store: InMemoryStore
) -> None:
    alice = await account(container, "alice@example.com")
    await account(container, "bob@example.com")
    with pytest.raises(EmailAlreadyRegistered):
        await container.update_user().execute(
            UpdateUserCommand(
                actor=alice, user_id=alice.id, changes=UserChanges(email="BOB@example.com")
            )
        )
    assert store.users[alice.id].email == Email("alice@example.com")
    store.users[alice.id].is_verified = True
    updated = await container.update_user().execute(
        UpdateUserCommand(
            actor=alice, user_id=alice.id, changes=UserChanges(email="Alice2@Example.com")
        )
    )
    assert updated.email.value == "alice2@example.com"
    assert not updated.is_verified


async def test_own_password_change_needs_the_current_password(
    container: Container, store: InMemoryStore, clock: FixedClock
) -> None:
    alice = await account(container, "alice@example.com")
    before = store.users[alice.id].hashed_password
    for current in (None, "wrong password"):
        with pytest.raises(WrongCurrentPassword):
            await container.update_user().execute(
                UpdateUserCommand(
                    actor=alice,
                    user_id=alice.id,
                    changes=UserChanges(password="new password 1", current_password=current),
                )
            )
    assert store.users[alice.id].hashed_password == before

    token = (
        await container.login().execute(LoginCommand("alice@example.com", PASSWORD))
    ).access_token
    clock.advance(timedelta(seconds=1))
    await container.update_user().execute(
        UpdateUserCommand(
            actor=alice,
            user_id=alice.id,
            changes=UserChanges(password="new password 1", current_password=PASSWORD),
        )
    )
    with pytest.raises(AuthenticationFailed):
        await container.get_current_user().execute(GetCurrentUserCommand(token))
    with pytest.raises(AuthenticationFailed):
        await container.login().execute(LoginCommand("alice@example.com", PASSWORD))
    await container.login().execute(LoginCommand("alice@example.com", "new password 1"))


async def test_a_weak_new_password_is_refused_before_anything_else(container: Container) -> None:
    alice = await account(container, "alice@example.com")
    with pytest.raises(ValidationFailed) as caught:
        await container.update_user().execute(
            UpdateUserCommand(
                actor=alice,
                user_id=alice.id,
                changes=UserChanges(password="short", current_password=PASSWORD),
            )
        )
    assert caught.value.field == "password"


async def test_admins_reset_other_passwords_without_the_current_one(container: Container) -> None:
    admin = await account(container, "root@example.com", admin=True)
    alice = await account(container, "alice@example.com")
    await container.update_user().execute(
        UpdateUserCommand(
            actor=admin, user_id=alice.id, changes=UserChanges(password="reset by admin")
        )
    )
    await container.login().execute(LoginCommand("alice@example.com", "reset by admin"))


async def test_non_admins_cannot_change_roles_or_the_active_flag(
    container: Container, store: InMemoryStore
) -> None:
    alice = await account(container, "alice@example.com")
    for changes in (UserChanges(roles=frozenset({Role.ADMIN})), UserChanges(is_active=False)):
        with pytest.raises(PermissionDenied):
            await container.update_user().execute(
                UpdateUserCommand(actor=alice, user_id=alice.id, changes=changes)
            )
    assert store.users[alice.id].roles == frozenset({Role.USER})
    assert store.users[alice.id].is_active


async def test_others_accounts_do_not_exist_for_users(container: Container) -> None:
    alice = await account(container, "alice@example.com")
    bob = await account(container, "bob@example.com")
    with pytest.raises(UserNotFound):
        await container.get_user().execute(GetUserCommand(actor=alice, user_id=bob.id))
    with pytest.raises(UserNotFound):
        await container.update_user().execute(
            UpdateUserCommand(actor=alice, user_id=bob.id, changes=UserChanges(full_name="x"))
        )
    with pytest.raises(UserNotFound):
        await container.delete_user().execute(DeleteUserCommand(actor=alice, user_id=bob.id))


async def test_deactivation_and_role_changes_end_sessions(
    container: Container, clock: FixedClock
) -> None:
    admin = await account(container, "root@example.com", admin=True)
    alice = await account(container, "alice@example.com")
    token = (
        await container.login().execute(LoginCommand("alice@example.com", PASSWORD))
    ).access_token
    clock.advance(timedelta(seconds=1))
    promoted = await container.update_user().execute(
        UpdateUserCommand(
            actor=admin, user_id=alice.id, changes=UserChanges(roles=frozenset({Role.ADMIN}))
        )
    )
    assert promoted.roles == frozenset({Role.USER, Role.ADMIN})
    with pytest.raises(AuthenticationFailed):
        await container.get_current_user().execute(GetCurrentUserCommand(token))
    await container.update_user().execute(
        UpdateUserCommand(actor=admin, user_id=alice.id, changes=UserChanges(is_active=False))
    )
    with pytest.raises(AuthenticationFailed):
        await container.login().execute(LoginCommand("alice@example.com", PASSWORD))


async def test_the_last_admin_cannot_leave(container: Container, store: InMemoryStore) -> None:
    admin = await account(container, "root@example.com", admin=True)
    for changes in (UserChanges(roles=frozenset({Role.USER})), UserChanges(is_active=False)):
        with pytest.raises(LastAdministrator):
            await container.update_user().execute(
                UpdateUserCommand(actor=admin, user_id=admin.id, changes=changes)
            )
    with pytest.raises(LastAdministrator):
        await container.delete_user().execute(DeleteUserCommand(actor=admin, user_id=admin.id))
    assert store.users[admin.id].is_active_admin

    second = await account(container, "second@example.com", admin=True)
    demoted = await container.update_user().execute(
        UpdateUserCommand(
            actor=admin, user_id=admin.id, changes=UserChanges(roles=frozenset({Role.USER}))
        )
    )
    assert not demoted.is_admin
    assert not demoted.is_superuser
    assert store.users[second.id].is_active_admin


async def test_deleting_a_user_deletes_their_items(
    container: Container, store: InMemoryStore
) -> None:
    alice = await account(container, "alice@example.com")
    bob = await account(container, "bob@example.com")
    await container.create_item().execute(
        CreateItemCommand(actor=alice, title="mine", description=None)
    )
    kept = await container.create_item().execute(
        CreateItemCommand(actor=bob, title="bob's", description=None)
    )
    await container.delete_user().execute(DeleteUserCommand(actor=alice, user_id=alice.id))
    assert alice.id not in store.users
    assert list(store.items) == [kept.id]


async def test_listing_users_is_for_admins_with_filters(container: Container) -> None:
    admin = await account(container, "root@example.com", admin=True)
    alice = await account(container, "alice@example.com")
    with pytest.raises(PermissionDenied):
        await container.list_users().execute(ListUsersCommand(actor=alice, page=PageRequest()))
    everyone = await container.list_users().execute(
        ListUsersCommand(actor=admin, page=PageRequest())
    )
    assert everyone.total == 2
    admins = await container.list_users().execute(
        ListUsersCommand(actor=admin, page=PageRequest(), role=Role.ADMIN)
    )
    assert [u.id for u in admins.items] == [admin.id]
    by_email = await container.list_users().execute(
        ListUsersCommand(actor=admin, page=PageRequest(), email="ALICE@example.com")
    )
    assert [u.id for u in by_email.items] == [alice.id]


async def test_sending_the_same_roles_keeps_sessions(
    container: Container, clock: FixedClock
) -> None:
    admin = await account(container, "root@example.com", admin=True)
    alice = await account(container, "alice@example.com")
    token = (
        await container.login().execute(LoginCommand("alice@example.com", PASSWORD))
    ).access_token
    clock.advance(timedelta(seconds=1))
    await container.update_user().execute(
        UpdateUserCommand(actor=admin, user_id=alice.id, changes=UserChanges(roles=frozenset()))
    )
    await container.update_user().execute(
        UpdateUserCommand(
            actor=admin,
            user_id=alice.id,
            changes=UserChanges(roles=frozenset({Role.USER}), is_active=True),
        )
    )
    assert (await container.get_current_user().execute(GetCurrentUserCommand(token))).id == alice.id
