"""Mail goes out after the answer: a slow or failing mail server never holds up or fails a
request."""

from __future__ import annotations

import logging

from fastapi import BackgroundTasks

from application.errors import StorageUnavailable
from application.mail import Mail
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
