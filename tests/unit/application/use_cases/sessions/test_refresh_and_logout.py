"""Refresh rotation, reuse detection and the ways sessions end, over the memory adapters."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.memory.store import InMemoryStore
from application.changes import UserChanges
from application.use_cases.accounts.register_user import RegisterUserCommand
from application.use_cases.accounts.update_user import UpdateUserCommand
from application.use_cases.sessions.get_current_user import GetCurrentUserCommand
from application.use_cases.sessions.login import LoginCommand, TokenPair
from application.use_cases.sessions.logout import LogoutCommand
from application.use_cases.sessions.logout_all import LogoutAllCommand
from application.use_cases.sessions.refresh_tokens import RefreshTokensCommand
from domain.errors import AuthenticationFailed
from domain.session import token_digest
from domain.user import User
from entrypoints.container import Container
from tests.support.accounts import PASSWORD
from tests.support.clock import FixedClock


@pytest.fixture
async def alice(container: Container) -> User:
    return await container.register_user().execute(
        RegisterUserCommand(email="alice@example.com", password=PASSWORD)
    )


async def log_in(container: Container) -> TokenPair:
    return await container.login().execute(LoginCommand("alice@example.com", PASSWORD))


async def refused(container: Container, refresh_token: str) -> bool:
    try:
        await container.refresh_tokens().execute(RefreshTokensCommand(refresh_token))
    except AuthenticationFailed:
        return True
    return False


async def test_login_stores_only_a_digest_of_the_refresh_token(
    container: Container, store: InMemoryStore, alice: User
) -> None:
    pair = await log_in(container)
    [session] = store.sessions.values()
    assert session.user_id == alice.id
    assert session.token_hash == token_digest(pair.refresh_token)
    assert pair.refresh_token not in repr(session)


async def test_refresh_rotates_and_the_old_token_is_spent(
    container: Container, clock: FixedClock, alice: User
) -> None:
    first = await log_in(container)
    clock.advance(timedelta(seconds=1))
    second = await container.refresh_tokens().execute(RefreshTokensCommand(first.refresh_token))
    assert second.refresh_token != first.refresh_token
    assert (
        await container.get_current_user().execute(GetCurrentUserCommand(second.access_token))
    ).id == alice.id
    third = await container.refresh_tokens().execute(RefreshTokensCommand(second.refresh_token))
    assert third.refresh_token not in (first.refresh_token, second.refresh_token)


async def test_reusing_a_spent_token_ends_the_whole_family(
    container: Container, store: InMemoryStore, alice: User
) -> None:
    first = await log_in(container)
    other_login = await log_in(container)
    second = await container.refresh_tokens().execute(RefreshTokensCommand(first.refresh_token))
    assert await refused(container, first.refresh_token)  # the replay
    assert await refused(container, second.refresh_token)  # the newest of that family too
    family = {s.family_id for s in store.sessions.values() if s.revoked_at is not None}
    assert len(family) == 1
    # Another login of the same user is another family, untouched.
    assert not await refused(container, other_login.refresh_token)


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
async def test_garbage_refresh_tokens_are_refused(
    container: Container, alice: User, token: str
) -> None:
    assert await refused(container, token)


async def test_an_access_token_is_not_a_refresh_token(container: Container, alice: User) -> None:
    pair = await log_in(container)
    assert await refused(container, pair.access_token)


async def test_an_expired_refresh_token_is_refused(
    container: Container, clock: FixedClock, alice: User
) -> None:
    pair = await log_in(container)
    clock.advance(timedelta(days=7))
    assert await refused(container, pair.refresh_token)


async def test_a_refresh_token_never_stored_is_refused(container: Container, alice: User) -> None:
    forged = container.token_service().issue_refresh(alice.id).token  # valid, but no session
    assert await refused(container, forged)


async def test_a_password_change_ends_refresh_sessions(
    container: Container, clock: FixedClock, alice: User
) -> None:
    pair = await log_in(container)
    clock.advance(timedelta(seconds=1))
    await container.update_user().execute(
        UpdateUserCommand(
            actor=alice,
            user_id=alice.id,
            changes=UserChanges(password="another password", current_password=PASSWORD),
        )
    )
    assert await refused(container, pair.refresh_token)


async def test_a_deactivated_user_cannot_refresh(
    container: Container, store: InMemoryStore, alice: User
) -> None:
    pair = await log_in(container)
    store.users[alice.id].is_active = False
    assert await refused(container, pair.refresh_token)


async def test_logout_ends_that_session_only(container: Container, alice: User) -> None:
    phone, laptop = await log_in(container), await log_in(container)
    await container.logout().execute(LogoutCommand(phone.refresh_token))
    assert await refused(container, phone.refresh_token)
    assert not await refused(container, laptop.refresh_token)
    await container.logout().execute(
        LogoutCommand(phone.refresh_token)
    )  # already over: not an error


async def test_logout_with_a_token_that_has_no_session_is_refused(
    container: Container, alice: User
) -> None:
    with pytest.raises(AuthenticationFailed):
        await container.logout().execute(
            LogoutCommand(container.token_service().issue_refresh(alice.id).token)
        )
    with pytest.raises(AuthenticationFailed):
        await container.logout().execute(LogoutCommand("garbage"))


async def test_logout_all_ends_every_token_at_once(
    container: Container, clock: FixedClock, alice: User
) -> None:
    phone, laptop = await log_in(container), await log_in(container)
    clock.advance(timedelta(seconds=1))
    await container.logout_all().execute(LogoutAllCommand(actor=alice))
    for pair in (phone, laptop):
        assert await refused(container, pair.refresh_token)
        with pytest.raises(AuthenticationFailed):
            await container.get_current_user().execute(GetCurrentUserCommand(pair.access_token))
    fresh = await log_in(container)
    assert (
        await container.get_current_user().execute(GetCurrentUserCommand(fresh.access_token))
    ).id == alice.id
