"""Account recovery and email verification: single-use tokens, mailed by background jobs."""

from __future__ import annotations

import copy
import logging
import secrets
import uuid
from datetime import timedelta

from application.mail import Mail, MailKind
from application.ports import (
    Clock,
    CommonPasswords,
    PasswordHasher,
    RateLimiter,
    UnitOfWork,
    UnitOfWorkFactory,
)
from application.retries import LOST, Lost, until_stored
from domain.email import Email
from domain.errors import InvalidToken, TooManyAttempts
from domain.events import PasswordResetRequested, VerificationRequested
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


async def issue_token(
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


def minutes(lifetime: timedelta) -> int:
    return int(lifetime.total_seconds() // 60)


class RequestPasswordReset:
    """Ask for a reset link. The caller learns nothing either way: the answer is the same,
    and so is the work done before it: the request is counted, atomically, against the
    address it names (at most three an hour, however many arrive at once), and recorded.
    Whether the account exists is found out by the handler of the event, after the answer
    (``SendResetLink``)."""

    def __init__(self, uow_factory: UnitOfWorkFactory, limiter: RateLimiter) -> None:
        self._uow_factory = uow_factory
        self._limiter = limiter

    async def execute(self, raw_email: str) -> None:
        email = Email(raw_email)
        if await self._limiter.hit(f"mail:reset:{email.value}") is not None:
            logger.info("password reset mail withheld: hourly limit reached")
            return
        # Only the request is stored: one INSERT, no transaction around it.
        async with self._uow_factory(read_only=True) as uow:
            uow.emit(PasswordResetRequested(email.value))
            await uow.commit()


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


def verification_key(user_id: uuid.UUID) -> str:
    """What verification mails are counted under: per account."""
    return f"mail:verification:{user_id}"


def verification_mail(user: User, token: str) -> Mail:
    return Mail(
        MailKind.VERIFY_EMAIL,
        to=str(user.email),
        full_name=user.full_name,
        token=token,
        expires_in_minutes=minutes(VERIFICATION_LIFETIME),
    )


class ResendVerification:
    """A new verification mail for the caller, at most three an hour (the one sent at
    registration or at a change of address counts), however many requests arrive at once:
    each is counted, atomically, before it is recorded. Nothing when the address is
    verified already."""

    def __init__(self, uow_factory: UnitOfWorkFactory, limiter: RateLimiter) -> None:
        self._uow_factory = uow_factory
        self._limiter = limiter

    async def execute(self, user: User) -> None:
        if user.is_verified:
            return
        wait = await self._limiter.hit(verification_key(user.id))
        if wait is not None:
            raise TooManyAttempts(wait, "Too many verification mails: try again later")
        async with self._uow_factory() as uow:
            uow.emit(VerificationRequested(user.id, str(user.email), counted=True))
            await uow.commit()


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
