"""Password reset and email verification over the memory adapters, with a fixed clock."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from adapters.memory.store import InMemoryStore
from application.changes import UserChanges
from application.mail import Mail, MailDeliveryFailed, MailKind
from application.use_cases.account_mail import DeliverMail
from application.use_cases.login import LoginCommand
from application.use_cases.register_user import RegisterUserCommand
from domain.errors import (
    AuthenticationFailed,
    EmailNotVerified,
    InvalidEmail,
    InvalidToken,
    TooManyAttempts,
    WeakPassword,
)
from domain.user import User
from entrypoints.container import Container
from tests.support.clock import FixedClock

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a long and quiet river"


@pytest.fixture
async def alice(container: Container) -> User:
    return await container.register_user().execute(
        RegisterUserCommand(email="alice@example.com", password=PASSWORD, full_name="Alice")
    )


async def request_reset(container: Container, email: str) -> Mail | None:
    """The request, then what runs after its answer."""
    address = await container.request_password_reset().execute(email)
    if address is None:
        return None
    mail: Mail | None = await container.issue_password_reset().execute(address)
    return mail


async def reset_token(container: Container, email: str = "alice@example.com") -> str:
    mail = await request_reset(container, email)
    assert mail is not None
    assert mail.kind is MailKind.PASSWORD_RESET
    assert mail.token is not None
    return mail.token


async def logs_in(container: Container, password: str) -> bool:
    try:
        await container.login().execute(LoginCommand("alice@example.com", password))
    except AuthenticationFailed:
        return False
    return True


# -- password reset ----------------------------------------------------------------------


async def test_a_reset_mails_a_single_use_token_that_is_stored_hashed(
    container: Container, alice: User, store: InMemoryStore
) -> None:
    mail = await request_reset(container, " Alice@Example.com ")
    assert mail is not None
    assert (mail.to, mail.full_name, mail.expires_in_minutes) == ("alice@example.com", "Alice", 30)
    assert mail.token is not None
    assert len(mail.token) >= 43
    [stored] = store.one_time_tokens.values()
    assert stored.token_hash != mail.token
    assert mail.token not in repr(stored)


async def test_unknown_and_inactive_accounts_get_no_mail(
    container: Container, alice: User, store: InMemoryStore
) -> None:
    assert await request_reset(container, "nobody@example.com") is None
    store.users[alice.id] = dataclasses.replace(store.users[alice.id], is_active=False)
    assert await request_reset(container, "alice@example.com") is None
    assert store.one_time_tokens == {}


async def test_a_malformed_address_is_a_validation_error(container: Container) -> None:
    with pytest.raises(InvalidEmail):
        await container.request_password_reset().execute("not-an-email")


async def test_at_most_three_reset_mails_an_hour(
    container: Container, alice: User, clock: FixedClock
) -> None:
    for _ in range(3):
        await reset_token(container)
        clock.advance(timedelta(minutes=5))
    assert await request_reset(container, "alice@example.com") is None
    clock.advance(timedelta(minutes=46))  # the first one is now more than an hour old
    await reset_token(container)


async def test_confirming_sets_the_password_and_ends_every_session(
    container: Container, alice: User, clock: FixedClock
) -> None:
    pair = await container.login().execute(LoginCommand("alice@example.com", PASSWORD))
    token = await reset_token(container)
    clock.advance(timedelta(seconds=1))
    await container.confirm_password_reset().execute(token, NEW_PASSWORD)

    assert await logs_in(container, NEW_PASSWORD)
    assert not await logs_in(container, PASSWORD)
    with pytest.raises(AuthenticationFailed):
        await container.get_current_user().execute(pair.access_token)
    with pytest.raises(AuthenticationFailed):
        await container.refresh_tokens().execute(pair.refresh_token)


async def test_a_reset_token_works_once_and_spends_its_siblings(
    container: Container, alice: User
) -> None:
    first, second = await reset_token(container), await reset_token(container)
    await container.confirm_password_reset().execute(first, NEW_PASSWORD)
    for token in (first, second):
        with pytest.raises(InvalidToken):
            await container.confirm_password_reset().execute(token, "yet another passphrase")
    assert await logs_in(container, NEW_PASSWORD)


async def test_an_expired_or_unknown_token_is_refused(
    container: Container, alice: User, clock: FixedClock
) -> None:
    token = await reset_token(container)
    clock.advance(timedelta(minutes=30))
    with pytest.raises(InvalidToken):
        await container.confirm_password_reset().execute(token, NEW_PASSWORD)
    with pytest.raises(InvalidToken):
        await container.confirm_password_reset().execute("made-up-token", NEW_PASSWORD)
    assert await logs_in(container, PASSWORD)


async def test_a_weak_password_is_refused_and_the_token_stays_usable(
    container: Container, alice: User
) -> None:
    token = await reset_token(container)
    with pytest.raises(WeakPassword) as caught:
        await container.confirm_password_reset().execute(token, "short")
    assert caught.value.field == "new_password"
    with pytest.raises(WeakPassword):
        await container.confirm_password_reset().execute(token, "password123")  # common
    await container.confirm_password_reset().execute(token, NEW_PASSWORD)


async def test_a_verification_token_is_not_a_reset_token(container: Container, alice: User) -> None:
    mail = await container.start_email_verification().execute(alice)
    assert mail is not None
    assert mail.token is not None
    with pytest.raises(InvalidToken):
        await container.confirm_password_reset().execute(mail.token, NEW_PASSWORD)


# -- verification ------------------------------------------------------------------------


async def test_verifying_marks_the_address_and_the_token_works_once(
    container: Container, alice: User, store: InMemoryStore
) -> None:
    mail = await container.start_email_verification().execute(alice)
    assert mail is not None
    assert (mail.kind, mail.to, mail.expires_in_minutes) == (
        MailKind.VERIFY_EMAIL,
        "alice@example.com",
        24 * 60,
    )
    assert mail.token is not None
    await container.verify_email().execute(mail.token)
    assert store.users[alice.id].is_verified
    with pytest.raises(InvalidToken):
        await container.verify_email().execute(mail.token)
    verified = store.users[alice.id]
    assert await container.start_email_verification().execute(verified) is None
    assert await container.resend_verification().execute(verified) is None


async def test_a_token_for_an_old_address_does_not_verify_the_new_one(
    container: Container, alice: User, store: InMemoryStore
) -> None:
    mail = await container.start_email_verification().execute(alice)
    assert mail is not None
    assert mail.token is not None
    await container.update_user().execute(
        alice, alice.id, UserChanges(email="alice@new.example.com")
    )
    with pytest.raises(InvalidToken):
        await container.verify_email().execute(mail.token)
    assert not store.users[alice.id].is_verified


async def test_resending_is_limited_to_three_mails_an_hour(
    container: Container, alice: User, clock: FixedClock
) -> None:
    await container.start_email_verification().execute(alice)  # the one sent at registration
    for _ in range(2):
        assert await container.resend_verification().execute(alice) is not None
        clock.advance(timedelta(minutes=10))
    with pytest.raises(TooManyAttempts) as caught:
        await container.resend_verification().execute(alice)
    # The oldest of the three was 20 minutes ago: 40 minutes to wait.
    assert 40 * 60 <= caught.value.retry_after <= 40 * 60 + 1
    clock.advance(timedelta(minutes=41))
    assert await container.resend_verification().execute(alice) is not None


async def test_administrators_are_verified_from_the_start(container: Container) -> None:
    admin = await container.create_superuser().execute(
        RegisterUserCommand(email="root@example.com", password=PASSWORD)
    )
    assert admin.is_verified


async def test_login_can_require_a_verified_address(
    container: Container, alice: User, store: InMemoryStore
) -> None:
    assert await logs_in(container, PASSWORD)
    container.settings().require_verified_email = True
    container.login.reset()
    with pytest.raises(EmailNotVerified):
        await container.login().execute(LoginCommand("alice@example.com", PASSWORD))
    # A wrong password still says nothing more than any wrong password.
    assert not await logs_in(container, "wrong password here")
    mail = await container.start_email_verification().execute(alice)
    assert mail is not None
    assert mail.token is not None
    await container.verify_email().execute(mail.token)
    assert await logs_in(container, PASSWORD)


# -- delivery ----------------------------------------------------------------------------


class FlakySender:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[Mail] = []

    async def send(self, mail: Mail) -> None:
        if self.failures:
            self.failures -= 1
            raise MailDeliveryFailed("smtp.example.com:587: ConnectionRefusedError")
        self.sent.append(mail)


async def test_delivery_retries_after_a_pause(caplog: pytest.LogCaptureFixture) -> None:
    pauses: list[float] = []

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)

    sender = FlakySender(failures=2)
    mail = Mail(MailKind.WELCOME, to="alice@example.com")
    assert await DeliverMail(sender, pauses=(1.0, 5.0), sleep=sleep)(mail)
    assert sender.sent == [mail]
    assert pauses == [1.0, 5.0]


async def test_undeliverable_mail_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    async def sleep(_: float) -> None:
        return None

    sender = FlakySender(failures=5)
    mail = Mail(MailKind.WELCOME, to="alice@example.com")
    with caplog.at_level("WARNING", logger="keel.mail"):
        assert not await DeliverMail(sender, pauses=(1.0, 5.0), sleep=sleep)(mail)
    assert sender.sent == []
    assert [r.getMessage() for r in caplog.records].count("mail delivery failed, retrying") == 2
    assert caplog.records[-1].getMessage() == "mail not delivered"
    assert caplog.records[-1].levelname == "ERROR"
