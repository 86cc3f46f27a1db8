"""Registering an account and creating an administrator, over the memory adapters."""

from __future__ import annotations

import pytest
from dependency_injector import providers

from adapters.memory.store import InMemoryStore
from application.use_cases.accounts.create_superuser import CreateSuperuserCommand
from application.use_cases.accounts.register_user import RegisterUser, RegisterUserCommand
from domain.email import Email
from domain.errors import (
    EmailAlreadyRegistered,
    InvalidEmail,
    RegistrationClosed,
    WeakPassword,
)
from domain.role import Role
from entrypoints.container import Container
from tests.support.accounts import PASSWORD, register
from tests.support.clock import FixedClock


async def test_register_stores_a_normalised_ordinary_account(
    container: Container, store: InMemoryStore, clock: FixedClock
) -> None:
    user = await register(container, "  Ada@Example.COM ")
    stored = store.users[user.id]
    assert stored.email == Email("ada@example.com")
    assert stored.full_name == "Ada"
    assert stored.roles == frozenset({Role.USER})
    assert not stored.is_admin
    assert stored.hashed_password.startswith("$argon2id$")
    assert PASSWORD not in stored.hashed_password
    assert stored.created_at == stored.sessions_valid_after == clock.now()


async def test_a_taken_email_is_refused_whatever_its_case(
    container: Container, store: InMemoryStore
) -> None:
    await register(container)
    with pytest.raises(EmailAlreadyRegistered):
        await register(container, "ADA@example.com")
    assert len(store.users) == 1


@pytest.mark.parametrize("password", ["short", "x" * 129, " " * 12, "pass\x00word1"])
async def test_a_weak_password_stores_nothing(
    container: Container, store: InMemoryStore, password: str
) -> None:
    with pytest.raises(WeakPassword):
        await container.register_user().execute(
            RegisterUserCommand(email="ada@example.com", password=password)
        )
    assert store.users == {}


async def test_an_invalid_email_stores_nothing(container: Container, store: InMemoryStore) -> None:
    with pytest.raises(InvalidEmail):
        await container.register_user().execute(
            RegisterUserCommand(email="ada at example", password=PASSWORD)
        )
    assert store.users == {}


async def test_closed_registration_refuses_but_superusers_can_still_be_made(
    container: Container, store: InMemoryStore
) -> None:
    container.register_user.override(
        providers.Singleton(
            RegisterUser,
            uow_factory=container.unit_of_work.provider,
            hasher=container.password_hasher,
            clock=container.clock,
            open_registration=False,
        )
    )
    with pytest.raises(RegistrationClosed):
        await register(container)
    assert store.users == {}
    admin = await container.create_superuser().execute(
        CreateSuperuserCommand(email="root@example.com", password=PASSWORD)
    )
    assert admin.id in store.users


async def test_create_superuser_makes_an_admin(container: Container, store: InMemoryStore) -> None:
    admin = await container.create_superuser().execute(
        CreateSuperuserCommand(email="Root@Example.com", password=PASSWORD)
    )
    stored = store.users[admin.id]
    assert stored.roles == frozenset({Role.USER, Role.ADMIN})
    assert stored.is_superuser
    assert stored.email.value == "root@example.com"
    with pytest.raises(EmailAlreadyRegistered):
        await container.create_superuser().execute(
            CreateSuperuserCommand(email="root@example.com", password=PASSWORD)
        )
