"""The welcome mail of a new account. Sent once the change that recorded its event is committed,
at least once per event (again after a failure or a crash): at most one mail more than
it must, never none."""

from __future__ import annotations

from application.mail import Mail, MailKind
from application.ports import EmailSender, UserReader
from domain.events import UserRegistered
from domain.user import User


class SendWelcomeMail:
    def __init__(self, users: UserReader, sender: EmailSender) -> None:
        self._users = users
        self._sender = sender

    async def __call__(self, event: UserRegistered) -> None:
        user = await self._users.get(event.user_id)
        if user is not None:
            await self._sender.send(welcome_mail(user))


def welcome_mail(user: User) -> Mail:
    return Mail(MailKind.WELCOME, to=str(user.email), full_name=user.full_name)
