"""Mail written to the log instead of sent: the development mail box."""

from __future__ import annotations

import logging

from adapters.email.templates import render
from application.mail import Mail

logger = logging.getLogger("keel.mail")


class LoggingEmailSender:
    """One log line per mail: recipient, subject, link and the plain-text part. With
    ``show_links`` off (staging and production without a mail server) the token in the link
    is hidden and the line says that the mail was not delivered."""

    def __init__(self, *, sender: str, base_url: str, show_links: bool) -> None:
        self._sender = sender
        self._base_url = base_url
        self._show_links = show_links

    async def send(self, mail: Mail) -> None:
        rendered = render(mail, self._base_url, show_token=self._show_links)
        if self._show_links:
            message = "mail written to the log instead of sent (SMTP_HOST is not set)"
        else:
            message = "mail NOT delivered: SMTP_HOST is not set"
            if rendered.link:
                message += "; the token in its link is hidden"
        fields: dict[str, object] = {
            "mail": mail.kind.value,
            "to": mail.to,
            "from": self._sender,
            "subject": rendered.subject,
        }
        if rendered.link:
            # Keel's log redaction leaves this one field of keel.mail lines alone: it is the
            # point of the development mail box. Everywhere else, the body included, a
            # token=... is redacted as usual.
            fields["link"] = rendered.link
        fields["body"] = rendered.text
        logger.info(message, extra=fields)
