"""The security trail over the memory adapters: which change records which event, once, with
who and from where, and never a secret."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory.store import InMemoryStore
from application.changes import UserChanges
from application.ports import EventPageRequest, SecurityEventFilter
from application.use_cases.accounts.delete_user import DeleteUserCommand
from application.use_cases.accounts.update_user import UpdateUserCommand
from application.use_cases.audit.account_trail import AccountTrailCommand
from application.use_cases.audit.list_security_events import ListSecurityEventsCommand
from application.use_cases.housekeeping.delete_expired import DeleteExpired, DeleteExpiredCommand
from application.use_cases.mail.confirm_password_reset import ConfirmPasswordResetCommand
from application.use_cases.mail.verify_email import VerifyEmailCommand
from application.use_cases.sessions.login import LoginCommand
from domain.errors import (
    AuthenticationFailed,
    LastAdministrator,
    PermissionDenied,
    TooManyAttempts,
    UserNotFound,
    ValidationFailed,
)
from domain.keyset import Cursor
from domain.role import Role
from domain.security_event import (
    MAX_USER_AGENT_LENGTH,
    Origin,
    SecurityEvent,
    SecurityEventType,
    checked_details,
)
from domain.user import User
from entrypoints.container import Container
from tests.support.accounts import PASSWORD, account
from tests.support.clock import FixedClock
from tests.unit.application.use_cases.mail.test_account_mail import (
    RecordingSender,
    reset_token,
    verification_token,
)

T = SecurityEventType
HERE = Origin.of("203.0.113.7", "Firefox/128")


def trail(store: InMemoryStore, kind: SecurityEventType | None = None) -> list[SecurityEvent]:
    return [e for e in store.security_events if kind is None or e.type is kind]


def no_secret_in(store: InMemoryStore, *secrets: str) -> None:
    text = json.dumps([[str(e.details), e.user_agent] for e in store.security_events])
    for secret in secrets:
        assert secret not in text


async def test_login_success_and_failures_are_recorded_with_the_origin(
    container: Container, store: InMemoryStore
) -> None:
    ada = await account(container, "ada@example.com")
    await container.login().execute(LoginCommand("ada@example.com", PASSWORD, origin=HERE))
    with pytest.raises(AuthenticationFailed):
        await container.login().execute(LoginCommand("ada@example.com", "wrong-pass", origin=HERE))
    with pytest.raises(AuthenticationFailed):
        await container.login().execute(
            LoginCommand("nobody@example.com", "typed-in-the-wrong-field", origin=HERE)
        )
    [succeeded] = trail(store, T.LOGIN_SUCCEEDED)
    failed, unknown = trail(store, T.LOGIN_FAILED)
    # The same write as a wrong password (so the answer takes as long), naming no account
    # and keeping nothing that was typed.
    assert (unknown.user_id, unknown.actor_id, unknown.details) == (
        None,
        None,
        {"reason": "unknown_account"},
    )
    assert (succeeded.user_id, succeeded.actor_id) == (ada.id, ada.id)
    assert (failed.user_id, failed.actor_id, failed.details) == (
        ada.id,
        None,
        {"reason": "password"},
    )
    assert (failed.address, failed.user_agent) == ("203.0.113.7", "Firefox/128")
    no_secret_in(store, PASSWORD, "wrong-pass", ada.hashed_password, "typed-in", "nobody")


async def test_a_flood_of_throttled_logins_records_one_event_per_window(
    container: Container, store: InMemoryStore, clock: FixedClock
) -> None:
    ada = await account(container, "ada@example.com")
    refused = 0
    for _ in range(30):
        try:
            await container.login().execute(
                LoginCommand("ada@example.com", "wrong-pass", "198.51.100.1", origin=HERE)
            )
        except TooManyAttempts:
            refused += 1
        except AuthenticationFailed:
            pass
    assert refused == 25
    assert len(trail(store, T.LOGIN_FAILED)) == 5
    [throttled] = trail(store, T.LOGIN_THROTTLED)
    assert throttled.user_id == ada.id
    clock.advance(timedelta(minutes=2))  # the next window: its first refusal records again
    for _ in range(6):
        with pytest.raises((AuthenticationFailed, TooManyAttempts)):
            await container.login().execute(LoginCommand("ada@example.com", "wrong-pass"))
    assert len(trail(store, T.LOGIN_THROTTLED)) == 2


async def test_account_changes_record_what_changed_and_who_did_it(
    container: Container, store: InMemoryStore
) -> None:
    root = await account(container, "root@example.com", admin=True)
    ada = await account(container, "ada@example.com")

    async def change(actor: User, **changes: object) -> None:
        await container.update_user().execute(
            UpdateUserCommand(actor, ada.id, UserChanges(**changes), origin=HERE)  # type: ignore[arg-type]
        )

    await change(ada, password="a new long secret", current_password=PASSWORD)
    await change(root, roles=frozenset({Role.USER, Role.ADMIN}))
    await change(root, roles=frozenset({Role.USER, Role.ADMIN}))  # no change: no event
    await change(root, is_active=False)
    await change(root, is_active=False)
    await change(root, is_active=True)
    await change(ada, full_name="Ada")  # not a security event
    [changed] = trail(store, T.PASSWORD_CHANGED)
    [roles] = trail(store, T.USER_ROLES_CHANGED)
    [off] = trail(store, T.USER_DEACTIVATED)
    [on] = trail(store, T.USER_ACTIVATED)
    assert (changed.actor_id, roles.actor_id, off.actor_id, on.actor_id) == (
        ada.id,
        root.id,
        root.id,
        root.id,
    )
    assert roles.details == {"roles": ["admin", "user"], "previous_roles": ["user"]}
    no_secret_in(store, PASSWORD, "a new long secret", store.users[ada.id].hashed_password)


async def test_a_refused_change_records_nothing(container: Container, store: InMemoryStore) -> None:
    root = await account(container, "root@example.com", admin=True)
    before = len(store.security_events)
    with pytest.raises(LastAdministrator):
        await container.update_user().execute(
            UpdateUserCommand(root, root.id, UserChanges(is_active=False))
        )
    assert len(store.security_events) == before


async def test_deletion_is_recorded_and_outlives_the_account(
    container: Container, store: InMemoryStore
) -> None:
    root = await account(container, "root@example.com", admin=True)
    ada = await account(container, "ada@example.com")
    await container.delete_user().execute(DeleteUserCommand(root, ada.id, origin=HERE))
    [deleted] = trail(store, T.USER_DELETED)
    assert (deleted.user_id, deleted.actor_id) == (ada.id, root.id)
    [registered] = [e for e in trail(store, T.USER_REGISTERED) if e.user_id == ada.id]
    assert registered.actor_id == ada.id


async def test_reset_and_verification_are_recorded(
    container: Container, store: InMemoryStore, sender: RecordingSender, alice: User
) -> None:
    token = await reset_token(container, sender)
    await container.confirm_password_reset().execute(
        ConfirmPasswordResetCommand(token, "a brand new secret", origin=HERE)
    )
    verify = await verification_token(container, sender, store.users[alice.id])
    await container.verify_email().execute(VerifyEmailCommand(verify))
    [reset] = trail(store, T.PASSWORD_RESET)
    [verified] = trail(store, T.EMAIL_VERIFIED)
    assert reset.user_id == verified.user_id == alice.id
    no_secret_in(store, token, verify, "a brand new secret")


async def test_reads_are_own_or_an_administrators(
    container: Container, store: InMemoryStore
) -> None:
    root = await account(container, "root@example.com", admin=True)
    ada = await account(container, "ada@example.com")
    bob = await account(container, "bob@example.com")
    read = container.list_security_events()
    own = await read.execute(
        ListSecurityEventsCommand(
            ada, EventPageRequest(), SecurityEventFilter(user_id=bob.id), own=True
        )
    )
    assert [e.user_id for e in own.items] == [ada.id]  # her own, whatever she asked
    with pytest.raises(PermissionDenied):
        await read.execute(ListSecurityEventsCommand(ada, EventPageRequest()))
    everyone = await read.execute(ListSecurityEventsCommand(root, EventPageRequest()))
    assert everyone.total == 3


async def test_pages_follow_their_cursor_newest_first(
    container: Container, store: InMemoryStore, clock: FixedClock
) -> None:
    root = await account(container, "root@example.com", admin=True)
    for n in range(7):
        clock.advance(timedelta(seconds=1))
        await account(container, f"user{n}@example.com")
    read = container.list_security_events()
    seen: list[SecurityEvent] = []
    request = EventPageRequest(page_size=3)
    pages = []
    while True:
        page = await read.execute(ListSecurityEventsCommand(root, request))
        seen += page.items
        pages.append((page.page, page.has_next))
        if page.next_cursor is None:
            break
        request = EventPageRequest(page_size=3, after=Cursor.decode(page.next_cursor))
    assert pages == [(1, True), (2, True), (3, False)]
    assert [e.at for e in seen] == sorted((e.at for e in store.security_events), reverse=True)
    assert len({e.id for e in seen}) == 8


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not base64!",
        "Zm9v",
        "x" * 500,
        Cursor(datetime.now(UTC), uuid.uuid4(), 2).encode()[:-3],
    ],
    ids=["empty", "not-base64", "no-separator", "oversized", "truncated"],
)
def test_a_forged_cursor_is_invalid_input(cursor: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        Cursor.decode(cursor)
    assert caught.value.field == "cursor"


def test_details_never_take_a_secret_and_user_agents_are_bounded() -> None:
    for name in ("password", "new_password_hash", "refresh_token", "recovery_code", "secret"):
        with pytest.raises(ValueError, match="secret"):
            checked_details({name: "x"})
    origin = Origin.of("::1", "a\x1b[31mred\u202e" + "b" * 1000)
    assert origin.user_agent is not None
    assert len(origin.user_agent) == MAX_USER_AGENT_LENGTH
    assert origin.user_agent.startswith("a[31mred")
    assert "\x1b" not in origin.user_agent


async def test_retention_deletes_only_what_is_older_than_the_setting(
    container: Container, store: InMemoryStore, clock: FixedClock
) -> None:
    await account(container, "old@example.com")
    clock.advance(timedelta(days=365, seconds=1))
    await account(container, "new@example.com")
    deleted = await container.delete_expired().execute(DeleteExpiredCommand())
    assert deleted.security_events == 1
    [kept] = store.security_events
    assert kept.at == clock.now()


async def test_retention_deletes_a_backlog_in_batches_until_none_is_left(
    container: Container, store: InMemoryStore, clock: FixedClock
) -> None:
    for n in range(5):
        await account(container, f"old{n}@example.com")
    clock.advance(timedelta(days=400))
    housekeeping = DeleteExpired(container.unit_of_work, clock, 365, batch_size=2)
    deleted = await housekeeping.execute(DeleteExpiredCommand())
    assert deleted.security_events == 5
    assert store.security_events == []


async def test_the_operators_view_by_email(container: Container) -> None:
    ada = await account(container, "ada@example.com")
    [event] = await container.account_trail().execute(AccountTrailCommand(" ADA@example.com"))
    assert (event.type, event.user_id) == (T.USER_REGISTERED, ada.id)
    with pytest.raises(UserNotFound):
        await container.account_trail().execute(AccountTrailCommand("who@example.com"))
