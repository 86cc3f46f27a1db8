"""Personal access tokens over the memory adapters, with a fixed clock: scopes, expiry,
revocation, the end of the owner's sessions (a password reset too) and the once-a-minute
``last_used_at``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from dependency_injector import providers

from adapters.memory.store import InMemoryStore
from application.mail import Mail, MailKind
from application.use_cases.mail.confirm_password_reset import ConfirmPasswordResetCommand
from application.use_cases.mail.request_password_reset import RequestPasswordResetCommand
from application.use_cases.sessions.logout_all import LogoutAllCommand
from application.use_cases.tokens.authenticate_personal_token import (
    AuthenticatePersonalTokenCommand,
    OutsideScopes,
)
from application.use_cases.tokens.create_personal_token import CreatePersonalTokenCommand
from application.use_cases.tokens.list_personal_tokens import ListPersonalTokensCommand
from application.use_cases.tokens.revoke_personal_token import (
    PersonalTokenNotFound,
    RevokePersonalTokenCommand,
)
from domain.errors import AuthenticationFailed, ValidationFailed
from domain.personal_token import Scope
from domain.security_event import SecurityEventType
from domain.session import token_digest
from domain.user import User
from entrypoints.container import Container
from tests.support.accounts import register
from tests.support.clock import FixedClock
from tests.support.jobs import run_due_jobs

READ = frozenset({Scope.ITEMS_READ})
WRITE = frozenset({Scope.ITEMS_WRITE})


async def issue(
    container: Container, user: User, scopes: frozenset[Scope] = READ, days: int = 30
) -> str:
    command = CreatePersonalTokenCommand(user, "script", scopes, days)
    return (await container.create_personal_token().execute(command)).text


async def use(container: Container, token: str, required: frozenset[Scope] = READ) -> User:
    command = AuthenticatePersonalTokenCommand(token, required)
    return await container.authenticate_personal_token().execute(command)


async def test_a_token_is_stored_as_its_digest_and_recorded_without_it(
    container: Container, store: InMemoryStore
) -> None:
    ada = await register(container)
    token = await issue(container, ada)
    [stored] = store.personal_tokens.values()
    assert stored.token_hash == token_digest(token)
    assert token not in repr(stored)
    [event] = [e for e in store.security_events if e.type is SecurityEventType.TOKEN_CREATED]
    assert event.details["pat_id"] == str(stored.id)
    assert token[9:] not in repr(event)
    assert (await use(container, token)).id == ada.id


async def test_scopes_are_checked_and_a_route_without_scopes_admits_none(
    container: Container,
) -> None:
    ada = await register(container)
    token = await issue(container, ada, READ)
    with pytest.raises(OutsideScopes):
        await use(container, token, WRITE)
    with pytest.raises(OutsideScopes):
        await use(container, token, frozenset())
    every = await issue(container, ada, frozenset(Scope))
    with pytest.raises(OutsideScopes):
        await use(container, every, frozenset())


@pytest.mark.parametrize(
    ("name", "scopes", "days"),
    [
        ("", READ, 30),
        (" ", READ, 30),
        ("x" * 101, READ, 30),
        ("a\nb", READ, 30),
        ("x", frozenset(), 30),
        ("x", READ, 0),
        ("x", READ, 366),
    ],
)
async def test_bad_requests_store_nothing(
    container: Container, store: InMemoryStore, name: str, scopes: frozenset[Scope], days: int
) -> None:
    ada = await register(container)
    with pytest.raises(ValidationFailed):
        command = CreatePersonalTokenCommand(ada, name, scopes, days)
        await container.create_personal_token().execute(command)
    assert store.personal_tokens == {}


async def test_a_token_expires_by_the_clock(container: Container, clock: FixedClock) -> None:
    ada = await register(container)
    token = await issue(container, ada, days=1)
    clock.advance(timedelta(days=1) - timedelta(seconds=1))
    await use(container, token)
    clock.advance(timedelta(seconds=1))
    with pytest.raises(AuthenticationFailed):
        await use(container, token)


async def test_revoking_stops_a_token_and_only_its_owner_may(container: Container) -> None:
    ada = await register(container)
    bob = await register(container, "bob@example.com")
    token = await issue(container, ada)
    [listed] = await container.list_personal_tokens().execute(ListPersonalTokensCommand(ada.id))
    with pytest.raises(PersonalTokenNotFound):
        await container.revoke_personal_token().execute(
            RevokePersonalTokenCommand(bob.id, listed.id)
        )
    await use(container, token)
    await container.revoke_personal_token().execute(RevokePersonalTokenCommand(ada.id, listed.id))
    with pytest.raises(AuthenticationFailed):
        await use(container, token)
    with pytest.raises(PersonalTokenNotFound):
        await container.revoke_personal_token().execute(
            RevokePersonalTokenCommand(ada.id, listed.id)
        )


async def test_last_used_at_is_written_at_most_once_a_minute(
    container: Container, store: InMemoryStore, clock: FixedClock
) -> None:
    ada = await register(container)
    token = await issue(container, ada)
    await use(container, token)
    [stored] = store.personal_tokens.values()
    first = stored.last_used_at
    assert first == clock.now()
    clock.advance(timedelta(seconds=59))
    await use(container, token)
    assert store.personal_tokens[stored.id].last_used_at == first
    clock.advance(timedelta(seconds=1))
    await use(container, token)
    assert store.personal_tokens[stored.id].last_used_at == clock.now()


class RecordingSender:
    def __init__(self) -> None:
        self.sent: list[Mail] = []

    async def send(self, mail: Mail) -> None:
        self.sent.append(mail)


@pytest.fixture
def sender(container: Container) -> Iterator[RecordingSender]:
    sender = RecordingSender()
    container.email_sender.override(providers.Object(sender))
    yield sender
    container.email_sender.reset_override()


async def test_a_password_reset_ends_the_tokens(
    container: Container, sender: RecordingSender, clock: FixedClock
) -> None:
    ada = await register(container)
    token = await issue(container, ada)
    await container.request_password_reset().execute(RequestPasswordResetCommand("ada@example.com"))
    await run_due_jobs(container)
    [mail] = [m for m in sender.sent if m.kind is MailKind.PASSWORD_RESET]
    assert mail.token is not None
    clock.advance(timedelta(seconds=1))
    await container.confirm_password_reset().execute(
        ConfirmPasswordResetCommand(token=mail.token, new_password="a long and quiet river")
    )
    with pytest.raises(AuthenticationFailed):
        await use(container, token)


async def test_no_token_is_made_for_a_caller_whose_sessions_ended_meanwhile(
    container: Container, store: InMemoryStore, clock: FixedClock
) -> None:
    ada = await register(container)  # as the request read her
    clock.advance(timedelta(seconds=1))
    await container.logout_all().execute(LogoutAllCommand(actor=ada))
    with pytest.raises(AuthenticationFailed):
        await issue(container, ada)
    assert store.personal_tokens == {}
