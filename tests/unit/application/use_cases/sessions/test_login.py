"""Logging in and resolving an access token to its user, over the memory adapters."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from adapters.argon2.hasher import Argon2PasswordHasher
from adapters.memory.store import InMemoryStore
from application.use_cases.sessions.get_current_user import GetCurrentUserCommand
from application.use_cases.sessions.login import LoginCommand
from domain.errors import (
    AuthenticationFailed,
)
from entrypoints.container import Container
from tests.support.accounts import PASSWORD, register
from tests.support.clock import FixedClock


async def test_login_gives_tokens_for_the_account(container: Container) -> None:
    user = await register(container)
    pair = await container.login().execute(LoginCommand("ADA@example.com", PASSWORD))
    claims = container.token_service().decode_access(pair.access_token)
    assert claims.user_id == user.id
    assert pair.expires_in == 15 * 60
    assert pair.token_type == "bearer"
    assert (
        await container.get_current_user().execute(GetCurrentUserCommand(pair.access_token)) == user
    )


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("ada@example.com", "wrong password"),
        ("nobody@example.com", PASSWORD),
        ("not an email", PASSWORD),
        ("", ""),
    ],
)
async def test_every_login_failure_is_the_same_error(
    container: Container, email: str, password: str
) -> None:
    await register(container)
    with pytest.raises(AuthenticationFailed) as caught:
        await container.login().execute(LoginCommand(email, password))
    assert caught.value.message == AuthenticationFailed().message


async def test_an_inactive_account_cannot_log_in(
    container: Container, store: InMemoryStore
) -> None:
    user = await register(container)
    store.users[user.id] = dataclasses.replace(store.users[user.id], is_active=False)
    with pytest.raises(AuthenticationFailed):
        await container.login().execute(LoginCommand("ada@example.com", PASSWORD))


async def test_login_rehashes_a_hash_made_with_other_parameters(
    container: Container, store: InMemoryStore
) -> None:
    user = await register(container)
    old = Argon2PasswordHasher(time_cost=1, memory_cost_kib=16, parallelism=1, max_threads=1)
    try:
        old_hash = await old.hash(PASSWORD)
    finally:
        old.close()
    store.users[user.id] = dataclasses.replace(store.users[user.id], hashed_password=old_hash)
    hasher = container.password_hasher()
    assert hasher.needs_rehash(old_hash)

    await container.login().execute(LoginCommand("ada@example.com", PASSWORD))

    new_hash = store.users[user.id].hashed_password
    assert new_hash != old_hash
    assert not hasher.needs_rehash(new_hash)
    assert await hasher.verify(new_hash, PASSWORD)


async def test_a_failed_login_does_not_rehash(container: Container, store: InMemoryStore) -> None:
    user = await register(container)
    before = store.users[user.id].hashed_password
    with pytest.raises(AuthenticationFailed):
        await container.login().execute(LoginCommand("ada@example.com", "wrong password"))
    assert store.users[user.id].hashed_password == before


async def test_tokens_issued_before_sessions_ended_are_refused(
    container: Container, store: InMemoryStore, clock: FixedClock
) -> None:
    user = await register(container)
    pair = await container.login().execute(LoginCommand("ada@example.com", PASSWORD))
    clock.advance(timedelta(seconds=1))
    store.users[user.id] = dataclasses.replace(
        store.users[user.id], sessions_valid_after=clock.now()
    )
    with pytest.raises(AuthenticationFailed):
        await container.get_current_user().execute(GetCurrentUserCommand(pair.access_token))
    fresh = await container.login().execute(LoginCommand("ada@example.com", PASSWORD))
    assert (
        await container.get_current_user().execute(GetCurrentUserCommand(fresh.access_token))
    ).id == user.id


async def test_a_token_for_a_deleted_or_inactive_user_is_refused(
    container: Container, store: InMemoryStore
) -> None:
    user = await register(container)
    token = (
        await container.login().execute(LoginCommand("ada@example.com", PASSWORD))
    ).access_token
    store.users[user.id] = dataclasses.replace(store.users[user.id], is_active=False)
    with pytest.raises(AuthenticationFailed):
        await container.get_current_user().execute(GetCurrentUserCommand(token))
    del store.users[user.id]
    with pytest.raises(AuthenticationFailed):
        await container.get_current_user().execute(GetCurrentUserCommand(token))


async def test_an_expired_access_token_is_refused(container: Container, clock: FixedClock) -> None:
    await register(container)
    token = (
        await container.login().execute(LoginCommand("ada@example.com", PASSWORD))
    ).access_token
    clock.advance(timedelta(minutes=15))
    with pytest.raises(AuthenticationFailed):
        await container.get_current_user().execute(GetCurrentUserCommand(token))


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "ünïcode.tøken.x"])
async def test_garbage_tokens_are_refused(container: Container, token: str) -> None:
    with pytest.raises(AuthenticationFailed):
        await container.get_current_user().execute(GetCurrentUserCommand(token))
