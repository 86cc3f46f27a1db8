"""Mail through an SMTP server (standard library, in a worker thread)."""

from __future__ import annotations

import asyncio
import contextlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from adapters import tracing
from adapters.email.templates import render
from application.jobs import running_job
from application.mail import Mail, MailDeliveryFailed

TLS_MODES = ("starttls", "ssl", "none")


class SmtpEmailSender:
    """``tls``: ``starttls`` (upgrade a plain connection, usually port 587), ``ssl``
    (implicit TLS, usually 465) or ``none``. Logs in when ``username`` is set. ``timeout``
    bounds each step (connect, each command), in seconds."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str | None,
        password: str | None,
        tls: str,
        sender: str,
        base_url: str,
        timeout: float,
    ) -> None:
        if tls not in TLS_MODES:
            raise ValueError(f"tls must be one of {', '.join(TLS_MODES)}")
        self._host = host
        self._port = port
        self._username = username
        self._password = password
        self._tls = tls
        self._sender = sender
        self._base_url = base_url
        self._timeout = timeout

    @property
    def address(self) -> str:
        return f"{self._host}:{self._port}"

    async def send(self, mail: Mail) -> None:
        message = self.compose(mail)
        # One span per delivery: the server, the kind of mail, and how it went (never the
        # address or the text, which hold the link's token).
        attributes: dict[str, str | int] = {
            "server.address": self._host,
            "server.port": self._port,
            "keel.mail.kind": mail.kind.value,
        }
        with tracing.span("smtp send", attributes, kind="CLIENT") as span:
            try:
                await asyncio.to_thread(self._deliver, message)
            except MailDeliveryFailed:
                if span is not None:
                    span.set_attribute("keel.mail.outcome", "failed")
                raise
            if span is not None:
                span.set_attribute("keel.mail.outcome", "delivered")

    def compose(self, mail: Mail) -> EmailMessage:
        # A line break in a header would let the address add headers of its own (Bcc: ...).
        if "\r" in mail.to or "\n" in mail.to or not mail.to.strip():
            raise MailDeliveryFailed("refused: the recipient address is not a single line")
        rendered = render(mail, self._base_url)
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = mail.to
        message["Subject"] = rendered.subject
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = _message_id(mail, _domain_of(self._sender))
        message.set_content(rendered.text)
        message.add_alternative(rendered.html, subtype="html")
        return message

    def _deliver(self, message: EmailMessage) -> None:
        try:
            client = self._connect()
            try:
                if self._username:
                    client.login(self._username, self._password or "")
                client.send_message(message)
            finally:
                _quit(client)
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            # OSError covers refused connections, timeouts and TLS failures (ssl.SSLError);
            # ValueError a login the protocol cannot encode. The error's class and the server's
            # reply code say enough: their text may echo what was sent, the password included.
            code = getattr(exc, "smtp_code", None)
            detail = type(exc).__name__ + (f" {code}" if code else "")
            if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
                detail += f" (no answer within {self._timeout:g} s)"
            raise MailDeliveryFailed(f"SMTP server {self.address}: {detail}") from None

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self._tls == "ssl":
            return smtplib.SMTP_SSL(self._host, self._port, timeout=self._timeout, context=context)
        client = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
        if self._tls == "starttls":
            try:
                client.starttls(context=context)
            except BaseException:
                client.close()
                raise
        return client


def _quit(client: smtplib.SMTP) -> None:
    """Say goodbye; once the message is handed over, a failed goodbye must not turn a
    delivered mail into a failure (and a second copy on retry)."""
    with contextlib.suppress(smtplib.SMTPException, OSError):
        client.quit()
    client.close()


def _domain_of(sender: str) -> str:
    _name, address = parseaddr(sender)
    return address.rpartition("@")[2] or "localhost"


def _message_id(mail: Mail, domain: str) -> str:
    """One per job and kind of mail: a job that runs again (after a crash between the mail
    server's acceptance and the job's end) sends the same Message-ID."""
    job = running_job.get()
    if job is None:
        return make_msgid(domain=domain)
    return f"<{job}.{mail.kind.value}@{domain}>"
