"""Mail goes out after the answer: a slow or failing mail server never holds up or fails a
request."""

from __future__ import annotations

import logging

from fastapi import BackgroundTasks

from application.errors import StorageUnavailable
from application.mail import Mail
from domain.email import Email
from domain.user import User
from entrypoints.container import Container

logger = logging.getLogger("keel.mail")


def send_after_response(tasks: BackgroundTasks, container: Container, *mails: Mail | None) -> None:
    deliver = container.deliver_mail()
    for mail in mails:
        if mail is not None:
            tasks.add_task(deliver, mail)


async def verification_mail(container: Container, user: User) -> Mail | None:
    """A verification link for a new or changed address. The account change is already
    stored: if the link cannot be made now, the user asks for another one later."""
    try:
        return await container.start_email_verification().execute(user)
    except StorageUnavailable:
        logger.warning("verification mail not sent: the database is unavailable")
        return None


def send_reset_link_after_response(
    tasks: BackgroundTasks, container: Container, email: Email | None
) -> None:
    if email is not None:
        tasks.add_task(_send_reset_link, container, email)


async def _send_reset_link(container: Container, email: Email) -> None:
    """Whether the account exists is found out here, after the answer went out."""
    try:
        mail = await container.issue_password_reset().execute(email)
    except StorageUnavailable:
        logger.warning("password reset mail not sent: the database is unavailable")
        return
    if mail is not None:
        await container.deliver_mail()(mail)
