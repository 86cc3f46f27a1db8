"""Common passwords are refused, on every path that sets a password."""

from __future__ import annotations

import pytest

from adapters.memory.store import InMemoryStore
from adapters.passwords.common import ZxcvbnCommonPasswords
from application.changes import UserChanges
from application.use_cases.accounts.create_superuser import CreateSuperuserCommand
from application.use_cases.accounts.register_user import RegisterUserCommand
from application.use_cases.accounts.update_user import UpdateUserCommand
from domain.errors import WeakPassword
from domain.password import check_password_policy
from entrypoints.container import Container

COMMON = ["iloveyou", "12345678", "sunshine", "trustno1", "qwertyuiop", "passw0rd"]


def test_the_list_is_large_and_matches_ignoring_case_and_spaces() -> None:
    common = ZxcvbnCommonPasswords()
    assert len(common) >= 1000
    assert common.contains("IloveYou")
    assert common.contains(" 12345678 ")
    assert not common.contains("correct horse battery")
    assert not common.contains("kx9!vT2#mq")


def test_the_policy_asks_the_list_only_when_given_one() -> None:
    check_password_policy("iloveyou")
    with pytest.raises(WeakPassword, match="too common"):
        check_password_policy("iloveyou", is_common=ZxcvbnCommonPasswords().contains)


@pytest.mark.parametrize("password", COMMON)
async def test_registration_refuses_common_passwords(
    container: Container, store: InMemoryStore, password: str
) -> None:
    with pytest.raises(WeakPassword, match="too common") as caught:
        await container.register_user().execute(
            RegisterUserCommand(email="ada@example.com", password=password)
        )
    assert caught.value.field == "password"
    assert store.users == {}


async def test_superusers_and_password_changes_refuse_them_too(
    container: Container, store: InMemoryStore
) -> None:
    with pytest.raises(WeakPassword):
        await container.create_superuser().execute(
            CreateSuperuserCommand(email="root@example.com", password="sunshine")
        )
    user = await container.register_user().execute(
        RegisterUserCommand(email="ada@example.com", password="correct horse battery")
    )
    before = store.users[user.id].hashed_password
    with pytest.raises(WeakPassword):
        await container.update_user().execute(
            UpdateUserCommand(
                actor=user,
                user_id=user.id,
                changes=UserChanges(password="trustno1", current_password="correct horse battery"),
            ),
        )
    assert store.users[user.id].hashed_password == before
