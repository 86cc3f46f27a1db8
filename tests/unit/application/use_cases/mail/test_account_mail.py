"""Password reset and email verification over the memory adapters, with a fixed clock: the
use cases record events, and the background jobs (run here by hand) send the mail."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from dependency_injector import providers

from adapters.memory.store import InMemoryStore
from application.changes import UserChanges
from application.jobs import MAIL_RETRIES
from application.mail import Mail, MailDeliveryFailed, MailKind
from application.use_cases.accounts.create_superuser import CreateSuperuserCommand
from application.use_cases.accounts.register_user import RegisterUserCommand
from application.use_cases.accounts.update_user import UpdateUserCommand
from application.use_cases.mail.check_mail_token import CheckMailTokenCommand
from application.use_cases.mail.confirm_password_reset import ConfirmPasswordResetCommand
from application.use_cases.mail.request_password_reset import RequestPasswordResetCommand
from application.use_cases.mail.resend_verification import ResendVerificationCommand
from application.use_cases.mail.verify_email import VerifyEmailCommand
from application.use_cases.sessions.get_current_user import GetCurrentUserCommand
from application.use_cases.sessions.login import LoginCommand
from application.use_cases.sessions.refresh_tokens import RefreshTokensCommand
from domain.errors import (
    AuthenticationFailed,
    EmailNotVerified,
    InvalidEmail,
    InvalidToken,
    TooManyAttempts,
    WeakPassword,
)
from domain.one_time_token import OneTimeToken, TokenPurpose
from domain.user import User
from entrypoints.container import Container
from tests.support.accounts import PASSWORD
from tests.support.clock import FixedClock
from tests.support.jobs import make_waiting_jobs_due, queued_jobs, run_due_jobs

NEW_PASSWORD = "a long and quiet river"


class RecordingSender:
    """Keeps what it is given; fails the next ``failures`` sends."""

    def __init__(self) -> None:
        self.sent: list[Mail] = []
        self.failures = 0

    async def send(self, mail: Mail) -> None:
        if self.failures:
            self.failures -= 1
            raise MailDeliveryFailed("smtp.example.com:587: ConnectionRefusedError")
        self.sent.append(mail)


@pytest.fixture
def sender(container: Container) -> Iterator[RecordingSender]:
    sender = RecordingSender()
    container.email_sender.override(providers.Object(sender))
    yield sender
    container.email_sender.reset_override()


async def run_jobs(container: Container, sender: RecordingSender, kind: MailKind) -> list[Mail]:
    """Run every background job that is due; the mails of ``kind`` they sent."""
    before = len(sender.sent)
    await run_due_jobs(container)
    return [mail for mail in sender.sent[before:] if mail.kind is kind]


@pytest.fixture
async def alice(container: Container, sender: RecordingSender) -> User:
    user = await container.register_user().execute(
        RegisterUserCommand(email="alice@example.com", password=PASSWORD, full_name="Alice")
    )
    await run_jobs(container, sender, MailKind.WELCOME)
    return user


async def request_reset(container: Container, sender: RecordingSender, email: str) -> Mail | None:
    """The request, then the jobs it caused."""
    await container.request_password_reset().execute(RequestPasswordResetCommand(email))
    mails = await run_jobs(container, sender, MailKind.PASSWORD_RESET)
    assert len(mails) <= 1
    return mails[0] if mails else None


async def reset_token(
    container: Container, sender: RecordingSender, email: str = "alice@example.com"
) -> str:
    mail = await request_reset(container, sender, email)
    assert mail is not None
    assert mail.token is not None
    return mail.token


async def verification_token(container: Container, sender: RecordingSender, user: User) -> str:
    await container.resend_verification().execute(ResendVerificationCommand(actor=user))
    [mail] = await run_jobs(container, sender, MailKind.VERIFY_EMAIL)
    assert mail.token is not None
    return mail.token


def resets(store: InMemoryStore) -> list[OneTimeToken]:
    return [t for t in store.one_time_tokens.values() if t.purpose is TokenPurpose.PASSWORD_RESET]


async def logs_in(container: Container, password: str) -> bool:
    try:
        await container.login().execute(LoginCommand("alice@example.com", password))
    except AuthenticationFailed:
        return False
    return True


# -- password reset ----------------------------------------------------------------------


async def test_a_reset_mails_a_single_use_token_that_is_stored_hashed(
    container: Container, sender: RecordingSender, alice: User, store: InMemoryStore
) -> None:
    mail = await request_reset(container, sender, " Alice@Example.com ")
    assert mail is not None
    assert (mail.to, mail.full_name, mail.expires_in_minutes) == ("alice@example.com", "Alice", 30)
    assert mail.token is not None
    assert len(mail.token) >= 43
    [stored] = resets(store)
    assert stored.token_hash != mail.token
    assert mail.token not in repr(stored)


async def test_unknown_and_inactive_accounts_get_no_mail(
    container: Container, sender: RecordingSender, alice: User, store: InMemoryStore
) -> None:
    assert await request_reset(container, sender, "nobody@example.com") is None
    store.users[alice.id] = dataclasses.replace(store.users[alice.id], is_active=False)
    assert await request_reset(container, sender, "alice@example.com") is None
    assert resets(store) == []


async def test_a_malformed_address_is_a_validation_error(container: Container) -> None:
    with pytest.raises(InvalidEmail):
        await container.request_password_reset().execute(
            RequestPasswordResetCommand("not-an-email")
        )


async def test_at_most_three_reset_mails_an_hour(
    container: Container, sender: RecordingSender, alice: User, clock: FixedClock
) -> None:
    for _ in range(3):
        await reset_token(container, sender)
        clock.advance(timedelta(minutes=5))
    assert await request_reset(container, sender, "alice@example.com") is None
    clock.advance(timedelta(minutes=46))  # the first one is now more than an hour old
    await reset_token(container, sender)


async def test_confirming_sets_the_password_and_ends_every_session(
    container: Container, sender: RecordingSender, alice: User, clock: FixedClock
) -> None:
    pair = await container.login().execute(LoginCommand("alice@example.com", PASSWORD))
    token = await reset_token(container, sender)
    clock.advance(timedelta(seconds=1))
    await container.confirm_password_reset().execute(
        ConfirmPasswordResetCommand(token=token, new_password=NEW_PASSWORD)
    )

    assert await logs_in(container, NEW_PASSWORD)
    assert not await logs_in(container, PASSWORD)
    with pytest.raises(AuthenticationFailed):
        await container.get_current_user().execute(GetCurrentUserCommand(pair.access_token))
    with pytest.raises(AuthenticationFailed):
        await container.refresh_tokens().execute(RefreshTokensCommand(pair.refresh_token))


async def test_a_reset_token_works_once_and_spends_its_siblings(
    container: Container, sender: RecordingSender, alice: User
) -> None:
    first, second = await reset_token(container, sender), await reset_token(container, sender)
    await container.confirm_password_reset().execute(
        ConfirmPasswordResetCommand(token=first, new_password=NEW_PASSWORD)
    )
    for token in (first, second):
        with pytest.raises(InvalidToken):
            await container.confirm_password_reset().execute(
                ConfirmPasswordResetCommand(token=token, new_password="yet another passphrase")
            )
    assert await logs_in(container, NEW_PASSWORD)


async def test_an_expired_or_unknown_token_is_refused(
    container: Container, sender: RecordingSender, alice: User, clock: FixedClock
) -> None:
    token = await reset_token(container, sender)
    clock.advance(timedelta(minutes=30))
    with pytest.raises(InvalidToken):
        await container.confirm_password_reset().execute(
            ConfirmPasswordResetCommand(token=token, new_password=NEW_PASSWORD)
        )
    with pytest.raises(InvalidToken):
        await container.confirm_password_reset().execute(
            ConfirmPasswordResetCommand(token="made-up-token", new_password=NEW_PASSWORD)
        )
    assert await logs_in(container, PASSWORD)


async def test_a_weak_password_is_refused_and_the_token_stays_usable(
    container: Container, sender: RecordingSender, alice: User
) -> None:
    token = await reset_token(container, sender)
    with pytest.raises(WeakPassword) as caught:
        await container.confirm_password_reset().execute(
            ConfirmPasswordResetCommand(token=token, new_password="short")
        )
    assert caught.value.field == "new_password"
    with pytest.raises(WeakPassword):
        await container.confirm_password_reset().execute(
            ConfirmPasswordResetCommand(token=token, new_password="password123")
        )  # common
    await container.confirm_password_reset().execute(
        ConfirmPasswordResetCommand(token=token, new_password=NEW_PASSWORD)
    )


async def test_a_verification_token_is_not_a_reset_token(
    container: Container, sender: RecordingSender, alice: User
) -> None:
    token = await verification_token(container, sender, alice)
    with pytest.raises(InvalidToken):
        await container.confirm_password_reset().execute(
            ConfirmPasswordResetCommand(token=token, new_password=NEW_PASSWORD)
        )


# -- verification ------------------------------------------------------------------------


async def test_verifying_marks_the_address_and_the_token_works_once(
    container: Container, sender: RecordingSender, alice: User, store: InMemoryStore
) -> None:
    await container.resend_verification().execute(ResendVerificationCommand(actor=alice))
    [mail] = await run_jobs(container, sender, MailKind.VERIFY_EMAIL)
    assert (mail.kind, mail.to, mail.expires_in_minutes) == (
        MailKind.VERIFY_EMAIL,
        "alice@example.com",
        24 * 60,
    )
    assert mail.token is not None
    await container.verify_email().execute(VerifyEmailCommand(mail.token))
    assert store.users[alice.id].is_verified
    with pytest.raises(InvalidToken):
        await container.verify_email().execute(VerifyEmailCommand(mail.token))
    await container.resend_verification().execute(
        ResendVerificationCommand(actor=store.users[alice.id])
    )
    assert await run_jobs(container, sender, MailKind.VERIFY_EMAIL) == []


async def test_a_token_for_an_old_address_does_not_verify_the_new_one(
    container: Container, sender: RecordingSender, alice: User, store: InMemoryStore
) -> None:
    token = await verification_token(container, sender, alice)
    await container.update_user().execute(
        UpdateUserCommand(
            actor=alice, user_id=alice.id, changes=UserChanges(email="alice@new.example.com")
        )
    )
    with pytest.raises(InvalidToken):
        await container.verify_email().execute(VerifyEmailCommand(token))
    assert not store.users[alice.id].is_verified
    # The new address gets a link of its own.
    [mail] = await run_jobs(container, sender, MailKind.VERIFY_EMAIL)
    assert mail.to == "alice@new.example.com"


async def test_resending_is_limited_to_three_mails_an_hour(
    container: Container, sender: RecordingSender, alice: User, clock: FixedClock
) -> None:
    # The one sent at registration counts (the fixture sent it).
    for _ in range(2):
        await container.resend_verification().execute(ResendVerificationCommand(actor=alice))
        assert len(await run_jobs(container, sender, MailKind.VERIFY_EMAIL)) == 1
        clock.advance(timedelta(minutes=10))
    with pytest.raises(TooManyAttempts) as caught:
        await container.resend_verification().execute(ResendVerificationCommand(actor=alice))
    # The window began with the first of the three, 20 minutes ago: 40 minutes to wait.
    assert 40 * 60 <= caught.value.retry_after <= 40 * 60 + 1
    clock.advance(timedelta(minutes=41))
    await container.resend_verification().execute(ResendVerificationCommand(actor=alice))
    assert len(await run_jobs(container, sender, MailKind.VERIFY_EMAIL)) == 1


async def test_administrators_are_verified_from_the_start(container: Container) -> None:
    admin = await container.create_superuser().execute(
        CreateSuperuserCommand(email="root@example.com", password=PASSWORD)
    )
    assert admin.is_verified


async def test_login_can_require_a_verified_address(
    container: Container, sender: RecordingSender, alice: User, store: InMemoryStore
) -> None:
    assert await logs_in(container, PASSWORD)
    container.settings().require_verified_email = True
    container.login.reset()
    with pytest.raises(EmailNotVerified):
        await container.login().execute(LoginCommand("alice@example.com", PASSWORD))
    # A wrong password still says nothing more than any wrong password.
    assert not await logs_in(container, "wrong password here")
    await container.verify_email().execute(
        VerifyEmailCommand(await verification_token(container, sender, alice))
    )
    assert await logs_in(container, PASSWORD)


# -- delivery ----------------------------------------------------------------------------


async def test_registration_records_its_mails_and_the_jobs_send_them(
    container: Container, sender: RecordingSender, store: InMemoryStore
) -> None:
    await container.register_user().execute(
        RegisterUserCommand(email="bob@example.com", password=PASSWORD, full_name="Bob")
    )
    assert sender.sent == []  # nothing is sent by the request itself
    assert len(store.outbox) == 2
    await run_due_jobs(container)
    assert sorted(mail.kind for mail in sender.sent) == [MailKind.VERIFY_EMAIL, MailKind.WELCOME]
    assert {mail.to for mail in sender.sent} == {"bob@example.com"}
    assert store.outbox == {}


def reset_job(container: Container) -> dict[str, object]:
    [job] = [j for j in queued_jobs(container) if j["task_name"] == "password_reset_requested"]
    return job


def seconds_until(moment: object) -> float:
    assert isinstance(moment, datetime)
    return (moment - datetime.now(UTC)).total_seconds()


async def test_a_failed_mail_is_tried_again_later_until_it_goes(
    container: Container, sender: RecordingSender, alice: User
) -> None:
    sender.failures = 2
    await container.request_password_reset().execute(
        RequestPasswordResetCommand("alice@example.com")
    )
    assert await run_jobs(container, sender, MailKind.PASSWORD_RESET) == []
    job = reset_job(container)
    assert (job["status"], job["attempts"]) == ("todo", 1)
    assert 8 < seconds_until(job["scheduled_at"]) <= 10  # the first retry within seconds
    assert await run_jobs(container, sender, MailKind.PASSWORD_RESET) == []  # not yet due
    make_waiting_jobs_due(container)
    assert await run_jobs(container, sender, MailKind.PASSWORD_RESET) == []  # fails again
    job = reset_job(container)
    assert 18 < seconds_until(job["scheduled_at"]) <= 20  # then twice as long
    make_waiting_jobs_due(container)
    [mail] = await run_jobs(container, sender, MailKind.PASSWORD_RESET)
    assert mail.to == "alice@example.com"
    assert reset_job(container)["status"] == "succeeded"


async def test_a_mail_that_keeps_failing_is_kept_as_failed_and_can_be_retried(
    container: Container, sender: RecordingSender, alice: User
) -> None:
    sender.failures = MAIL_RETRIES.attempts
    await container.request_password_reset().execute(
        RequestPasswordResetCommand("alice@example.com")
    )
    for _ in range(MAIL_RETRIES.attempts):
        assert await run_jobs(container, sender, MailKind.PASSWORD_RESET) == []
        make_waiting_jobs_due(container)
    job = reset_job(container)
    assert (job["status"], job["attempts"]) == ("failed", MAIL_RETRIES.attempts)
    queue = container.job_queue()
    [failed] = await queue.jobs(failed_only=True)
    assert (failed.kind, failed.status) == ("password_reset_requested", "failed")
    assert await run_jobs(container, sender, MailKind.PASSWORD_RESET) == []  # never by itself
    assert not await queue.retry(failed.id + 1000)
    assert await queue.retry(failed.id)
    [mail] = await run_jobs(container, sender, MailKind.PASSWORD_RESET)
    assert mail.to == "alice@example.com"
    assert await queue.jobs(failed_only=True) == []


def test_mail_is_tried_again_soon_then_less_often_for_hours() -> None:
    pauses = [MAIL_RETRIES.pause_after(n) for n in range(1, MAIL_RETRIES.attempts)]
    assert all(p is not None for p in pauses)
    assert (pauses[0] or timedelta.max) <= timedelta(seconds=30)
    assert pauses == sorted(pauses, key=lambda p: p or timedelta())  # never sooner
    assert MAIL_RETRIES.total_wait() >= timedelta(hours=1)
    assert MAIL_RETRIES.pause_after(MAIL_RETRIES.attempts) is None


# -- checking a link's token before showing its page -------------------------------------


async def test_checking_a_token_changes_nothing_and_knows_its_purpose(
    container: Container, sender: RecordingSender, alice: User, store: InMemoryStore
) -> None:
    token = await reset_token(container, sender)
    check = container.check_mail_token()
    for _ in range(2):
        await check.execute(CheckMailTokenCommand(token, TokenPurpose.PASSWORD_RESET))
    assert all(t.used_at is None for t in resets(store))
    with pytest.raises(InvalidToken):
        await check.execute(CheckMailTokenCommand(token, TokenPurpose.EMAIL_VERIFICATION))
    with pytest.raises(InvalidToken):
        await check.execute(CheckMailTokenCommand("x" * 43, TokenPurpose.PASSWORD_RESET))

    await container.confirm_password_reset().execute(
        ConfirmPasswordResetCommand(token=token, new_password=NEW_PASSWORD)
    )
    with pytest.raises(InvalidToken):
        await check.execute(CheckMailTokenCommand(token, TokenPurpose.PASSWORD_RESET))
