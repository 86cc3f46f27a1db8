"""Account recovery and email verification: single-use tokens, mailed after the answer."""

from __future__ import annotations

import asyncio
import copy
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from application.mail import Mail, MailDeliveryFailed, MailKind
from application.ports import (
    Clock,
    CommonPasswords,
    EmailSender,
    PasswordHasher,
    RateLimiter,
    UnitOfWork,
    UnitOfWorkFactory,
)
from application.retries import LOST, Lost, until_stored
from domain.email import Email
from domain.errors import InvalidToken, TooManyAttempts
from domain.one_time_token import OneTimeToken, TokenPurpose
from domain.password import check_password_policy
from domain.session import token_digest
from domain.user import User, UserBusy

logger = logging.getLogger("keel.mail")

RESET_LIFETIME = timedelta(minutes=30)
VERIFICATION_LIFETIME = timedelta(hours=24)
# Reset and verification mails per account: so many in a window of WINDOW_SECONDS that
# starts with the first.
MAILS_PER_HOUR = 3
WINDOW_SECONDS = 3600


def new_token() -> str:
    """256 random bits, URL-safe: what the mailed link carries."""
    return secrets.token_urlsafe(32)


async def _issue(
    uow: UnitOfWork, user: User, purpose: TokenPurpose, lifetime: timedelta, clock: Clock
) -> str:
    token = new_token()
    record = OneTimeToken.issue(
        user_id=user.id,
        purpose=purpose,
        token=token,
        email=str(user.email),
        now=clock.now(),
        lifetime=lifetime,
    )
    await uow.one_time_tokens.add(record)
    return token


def _minutes(lifetime: timedelta) -> int:
    return int(lifetime.total_seconds() // 60)


class RequestPasswordReset:
    """Ask for a reset link. The caller learns nothing either way: the answer is the same,
    and so is the work done before it. It only counts the request, atomically, against the
    address it names (at most three an hour, however many arrive at once); what depends on
    whether the account exists (``IssuePasswordReset``: the lookup, the token, the mail)
    happens after the answer."""

    def __init__(self, limiter: RateLimiter) -> None:
        self._limiter = limiter

    async def execute(self, raw_email: str) -> Email | None:
        """The address to send a link to after the answer, or None when its hourly limit
        is reached (answered the same, and nothing is sent)."""
        email = Email(raw_email)
        if await self._limiter.hit(f"mail:reset:{email.value}") is not None:
            logger.info("password reset mail withheld: hourly limit reached")
            return None
        return email


class IssuePasswordReset:
    """Make the reset link for an address that belongs to an active account: nothing for
    any other address. Runs after the answer to the request."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def execute(self, email: Email) -> Mail | None:
        async with self._uow_factory() as uow:
            user = await uow.users.get_by_email(email)
            if user is None or not user.is_active:
                return None
            token = await _issue(
                uow, user, TokenPurpose.PASSWORD_RESET, RESET_LIFETIME, self._clock
            )
            await uow.commit()
        return Mail(
            MailKind.PASSWORD_RESET,
            to=str(user.email),
            full_name=user.full_name,
            token=token,
            expires_in_minutes=_minutes(RESET_LIFETIME),
        )


class ConfirmPasswordReset:
    """Set a new password with a reset token. The token works once; every other reset
    token of the account is spent too, and every session of the account ends. A weak
    password is refused without spending the token."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        hasher: PasswordHasher,
        clock: Clock,
        common_passwords: CommonPasswords | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._hasher = hasher
        self._clock = clock
        self._common = common_passwords

    async def execute(self, token: str, new_password: str) -> None:
        digest = token_digest(token)
        async with self._uow_factory() as uow:
            await _usable_token(uow, digest, TokenPurpose.PASSWORD_RESET, self._clock)
        common = self._common
        check_password_policy(
            new_password, field="new_password", is_common=common.contains if common else None
        )
        hashed = await self._hasher.hash(new_password)

        async def attempt(uow: UnitOfWork, lock: bool) -> Lost | None:
            record, user = await _usable_token(
                uow, digest, TokenPurpose.PASSWORD_RESET, self._clock, lock=lock
            )
            now = self._clock.now()
            if not await uow.one_time_tokens.use(record.id, now):
                raise InvalidToken()  # another request used it a moment ago
            await uow.one_time_tokens.use_all(user.id, TokenPurpose.PASSWORD_RESET, now)
            reset = copy.copy(user)
            reset.hashed_password = hashed
            reset.end_sessions(now)
            reset.touch(now)
            if not await uow.users.update(user, reset):
                return LOST  # rolled back, the token with it: tried again on the newer row
            # After the user's row: a login or rotation holding it has committed by now.
            await uow.sessions.revoke_user(user.id, now)
            return None

        await until_stored(self._uow_factory, attempt, UserBusy)


async def _usable_token(
    uow: UnitOfWork, digest: str, purpose: TokenPurpose, clock: Clock, *, lock: bool = False
) -> tuple[OneTimeToken, User]:
    record = await uow.one_time_tokens.get_by_token_hash(digest)
    if record is None or not record.is_usable(purpose, clock.now()):
        raise InvalidToken()
    user = await uow.users.get(record.user_id, for_update=lock)
    if user is None or not user.is_active or str(user.email) != record.email:
        raise InvalidToken()
    return record, user


class StartEmailVerification:
    """Mail a verification link to an account's address (after registration or a change
    of address). Nothing for an address already verified. The mail counts against the
    account's hourly verification mails (see ``ResendVerification``), but is always sent."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock, limiter: RateLimiter) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._limiter = limiter

    async def execute(self, user: User) -> Mail | None:
        if user.is_verified:
            return None
        await self._limiter.hit(_verification_key(user))
        async with self._uow_factory() as uow:
            token = await _issue(
                uow, user, TokenPurpose.EMAIL_VERIFICATION, VERIFICATION_LIFETIME, self._clock
            )
            await uow.commit()
        return _verification_mail(user, token)


def _verification_key(user: User) -> str:
    return f"mail:verification:{user.id}"


def _verification_mail(user: User, token: str) -> Mail:
    return Mail(
        MailKind.VERIFY_EMAIL,
        to=str(user.email),
        full_name=user.full_name,
        token=token,
        expires_in_minutes=_minutes(VERIFICATION_LIFETIME),
    )


class ResendVerification:
    """A new verification mail for the caller, at most three an hour (the one sent at
    registration counts), however many requests arrive at once: each is counted, atomically,
    before a token is made. Nothing to send when the address is verified already."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock, limiter: RateLimiter) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._limiter = limiter

    async def execute(self, user: User) -> Mail | None:
        if user.is_verified:
            return None
        wait = await self._limiter.hit(_verification_key(user))
        if wait is not None:
            raise TooManyAttempts(wait, "Too many verification mails: try again later")
        async with self._uow_factory() as uow:
            token = await _issue(
                uow, user, TokenPurpose.EMAIL_VERIFICATION, VERIFICATION_LIFETIME, self._clock
            )
            await uow.commit()
        return _verification_mail(user, token)


class VerifyEmail:
    """Mark the address a verification token was mailed to as verified. The token works
    once, and only while the account still has that address."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def execute(self, token: str) -> None:
        digest = token_digest(token)

        async def attempt(uow: UnitOfWork, lock: bool) -> Lost | None:
            record, user = await _usable_token(
                uow, digest, TokenPurpose.EMAIL_VERIFICATION, self._clock, lock=lock
            )
            now = self._clock.now()
            if not await uow.one_time_tokens.use(record.id, now):
                raise InvalidToken()
            await uow.one_time_tokens.use_all(user.id, TokenPurpose.EMAIL_VERIFICATION, now)
            verified = copy.copy(user)
            verified.is_verified = True
            verified.touch(now)
            # Only while the address is still the one the token was mailed to.
            return None if await uow.users.update(user, verified) else LOST

        await until_stored(self._uow_factory, attempt, UserBusy)


def welcome_mail(user: User) -> Mail:
    return Mail(MailKind.WELCOME, to=str(user.email), full_name=user.full_name)


class DeliverMail:
    """Hand mail to the sender, retrying a failed attempt after a pause; a mail that cannot
    be delivered is logged, never raised: it runs after the answer was sent."""

    def __init__(
        self,
        sender: EmailSender,
        pauses: Sequence[float] = (1.0, 5.0),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._sender = sender
        self._pauses = tuple(pauses)
        self._sleep = sleep

    async def __call__(self, mail: Mail) -> bool:
        attempts = len(self._pauses) + 1
        for attempt in range(1, attempts + 1):
            try:
                await self._sender.send(mail)
            except MailDeliveryFailed as exc:
                error = str(exc)
            except Exception as exc:  # a sender bug must not vanish silently either
                logger.exception("mail sender failed unexpectedly")
                error = type(exc).__name__
            else:
                return True
            if attempt < attempts:
                logger.warning(
                    "mail delivery failed, retrying",
                    extra={"mail": mail.kind.value, "attempt": attempt, "error": error},
                )
                await self._sleep(self._pauses[attempt - 1])
            else:
                logger.error(
                    "mail not delivered",
                    extra={"mail": mail.kind.value, "attempts": attempts, "error": error},
                )
        return False
