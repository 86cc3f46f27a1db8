"""The link that verifies an address. Sent once the change that recorded its event is committed,
at least once per event (again after a failure or a crash): at most one mail more than
it must, never none."""

from __future__ import annotations

from application.mail import Mail, MailKind
from application.ports import Clock, EmailSender, RateLimiter, UnitOfWorkFactory
from application.use_cases.mail.limits import verification_key
from application.use_cases.mail.tokens import VERIFICATION_LIFETIME, issue_token, minutes
from domain.events import VerificationRequested
from domain.one_time_token import TokenPurpose
from domain.user import User


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


def verification_mail(user: User, token: str) -> Mail:
    return Mail(
        MailKind.VERIFY_EMAIL,
        to=str(user.email),
        full_name=user.full_name,
        token=token,
        expires_in_minutes=minutes(VERIFICATION_LIFETIME),
    )
