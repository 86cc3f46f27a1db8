"""The link that resets a password. Sent once the change that recorded its event is committed,
at least once per event (again after a failure or a crash): at most one mail more than
it must, never none."""

from __future__ import annotations

from application.mail import Mail, MailKind
from application.ports import Clock, EmailSender, UnitOfWorkFactory
from application.use_cases.mail.tokens import RESET_LIFETIME, issue_token, minutes
from domain.email import Email
from domain.events import PasswordResetRequested
from domain.one_time_token import TokenPurpose


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
