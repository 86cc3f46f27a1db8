"""What the mail events cause, once their change is committed: each handler runs at least
once per event (again after a failure or a crash), so each sends at most one more mail than
it must, never none."""

from __future__ import annotations

from application.mail import Mail, MailKind
from application.ports import Clock, EmailSender, RateLimiter, UnitOfWorkFactory
from application.use_cases.account_mail import (
    RESET_LIFETIME,
    VERIFICATION_LIFETIME,
    issue_token,
    minutes,
    verification_key,
    verification_mail,
    welcome_mail,
)
from domain.email import Email
from domain.events import PasswordResetRequested, UserRegistered, VerificationRequested
from domain.one_time_token import TokenPurpose


class SendWelcomeMail:
    def __init__(self, uow_factory: UnitOfWorkFactory, sender: EmailSender) -> None:
        self._uow_factory = uow_factory
        self._sender = sender

    async def __call__(self, event: UserRegistered) -> None:
        async with self._uow_factory(read_only=True) as uow:
            user = await uow.users.get(event.user_id)
        if user is not None:
            await self._sender.send(welcome_mail(user))


class SendVerificationLink:
    """A new link, while the account still has the address and has not verified it."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        sender: EmailSender,
        limiter: RateLimiter,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._sender = sender
        self._limiter = limiter

    async def __call__(self, event: VerificationRequested) -> None:
        async with self._uow_factory() as uow:
            user = await uow.users.get(event.user_id)
            if user is None or not user.is_active or user.is_verified:
                return
            if str(user.email) != event.email:
                return  # changed again since: that change has its own link
            token = await issue_token(
                uow, user, TokenPurpose.EMAIL_VERIFICATION, VERIFICATION_LIFETIME, self._clock
            )
            await uow.commit()
        if not event.counted:
            await self._limiter.hit(verification_key(user.id))  # counted, sent all the same
        await self._sender.send(verification_mail(user, token))


class SendResetLink:
    """A reset link when the address belongs to an active account; nothing otherwise."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock, sender: EmailSender) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._sender = sender

    async def __call__(self, event: PasswordResetRequested) -> None:
        async with self._uow_factory() as uow:
            user = await uow.users.get_by_email(Email.stored(event.email))
            if user is None or not user.is_active:
                return
            token = await issue_token(
                uow, user, TokenPurpose.PASSWORD_RESET, RESET_LIFETIME, self._clock
            )
            await uow.commit()
        mail = Mail(
            MailKind.PASSWORD_RESET,
            to=str(user.email),
            full_name=user.full_name,
            token=token,
            expires_in_minutes=minutes(RESET_LIFETIME),
        )
        await self._sender.send(mail)
