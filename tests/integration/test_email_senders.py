"""The SMTP sender against a real SMTP server; the logging sender through Keel's logging."""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.email.logging import LoggingEmailSender
from adapters.email.smtp import SmtpEmailSender
from application.jobs import running_job
from application.mail import Mail, MailDeliveryFailed, MailKind
from application.ports import EmailSender
from entrypoints.container import build_container
from entrypoints.logs import configure_logging
from entrypoints.settings import Settings
from tests.support.postgres import free_port
from tests.support.smtp import SmtpServer

BASE = "https://app.example.com"
SENDER = "Keel <no-reply@example.com>"
TOKEN = "kq3Z8wJ0yH5tB1vN7xR2mC9dL4fG6sA0pE3uI8oT5zY"


def smtp_sender(server: SmtpServer, **overrides: object) -> SmtpEmailSender:
    options: dict[str, object] = {
        "host": server.host,
        "port": server.port,
        "username": None,
        "password": None,
        "tls": "none",
        "sender": SENDER,
        "base_url": BASE,
        "timeout": 5.0,
    }
    options.update(overrides)
    return SmtpEmailSender(**options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "subject", "path", "minutes", "lifetime"),
    [
        (
            MailKind.VERIFY_EMAIL,
            "Verify your email address for Keel",
            "/verify-email",
            1440,
            "24 hours",
        ),
        (MailKind.PASSWORD_RESET, "Reset your Keel password", "/reset-password", 30, "30 minutes"),
    ],
)
async def test_token_mail_arrives_with_the_link_in_both_parts(
    smtp_server: SmtpServer, kind: MailKind, subject: str, path: str, minutes: int, lifetime: str
) -> None:
    mail = Mail(
        kind, to="ada@example.com", full_name="Ada", token=TOKEN, expires_in_minutes=minutes
    )
    await smtp_sender(smtp_server).send(mail)
    [received] = smtp_server.wait_for(1)
    assert received.rcpt_tos == ["ada@example.com"]
    assert received.mail_from == "no-reply@example.com"
    message = received.message
    assert (message["To"], message["From"], message["Subject"]) == (
        "ada@example.com",
        SENDER,
        subject,
    )
    assert message["Message-ID"].endswith("@example.com>")
    assert message["Date"].datetime is not None
    assert message.get_content_type() == "multipart/alternative"
    link = f"{BASE}{path}?token={TOKEN}"
    plain, html = received.part("plain"), received.part("html")
    assert link in plain
    assert f'href="{link}"' in html
    for part in (plain, html):
        assert "Hello Ada," in part
        assert f"within {lifetime}" in part
        assert "If you did not ask for this, ignore this mail." in part


async def test_the_link_quotes_the_token(smtp_server: SmtpServer) -> None:
    mail = Mail(
        MailKind.PASSWORD_RESET, to="ada@example.com", token="a+b/c=", expires_in_minutes=30
    )
    await smtp_sender(smtp_server).send(mail)
    [received] = smtp_server.wait_for(1)
    assert f"{BASE}/reset-password?token=a%2Bb%2Fc%3D" in received.part("plain")


async def test_welcome_mail_escapes_the_name_in_html(smtp_server: SmtpServer) -> None:
    mail = Mail(MailKind.WELCOME, to="eve@example.com", full_name="<script>alert(1)</script>")
    await smtp_sender(smtp_server).send(mail)
    [received] = smtp_server.wait_for(1)
    assert received.message["Subject"] == "Welcome to Keel"
    html = received.part("html")
    assert "<script>" not in html
    assert "Hello &lt;script&gt;alert(1)&lt;/script&gt;," in html
    assert "Hello <script>alert(1)</script>," in received.part("plain")


async def test_welcome_mail_without_a_name_says_hello(smtp_server: SmtpServer) -> None:
    await smtp_sender(smtp_server).send(Mail(MailKind.WELCOME, to="eve@example.com"))
    [received] = smtp_server.wait_for(1)
    assert received.part("plain").splitlines()[0] == "Hello,"
    assert BASE in received.part("html")


async def test_test_mail_says_delivery_works(smtp_server: SmtpServer) -> None:
    await smtp_sender(smtp_server).send(Mail(MailKind.TEST, to="ops@example.com"))
    [received] = smtp_server.wait_for(1)
    assert received.message["Subject"] == "Keel test message"
    assert "Mail delivery works." in received.part("plain")
    assert "Mail delivery works." in received.part("html")


@pytest.fixture(scope="module")
def guarded_server() -> Iterator[SmtpServer]:
    server = SmtpServer(user="keel", password="s3cret-pass")
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_login_with_the_right_password_delivers(guarded_server: SmtpServer) -> None:
    sender = smtp_sender(guarded_server, username="keel", password="s3cret-pass")
    await sender.send(Mail(MailKind.TEST, to="ops@example.com"))
    assert guarded_server.wait_for(1)[-1].message["Subject"] == "Keel test message"


async def test_a_refused_login_fails_without_showing_the_password(
    guarded_server: SmtpServer,
) -> None:
    before = len(guarded_server.received)
    sender = smtp_sender(guarded_server, username="keel", password="wrong-pass-123")
    with pytest.raises(MailDeliveryFailed) as caught:
        await sender.send(Mail(MailKind.TEST, to="ops@example.com"))
    message = str(caught.value)
    assert f"{guarded_server.host}:{guarded_server.port}" in message
    assert "SMTPAuthenticationError" in message
    assert "wrong-pass-123" not in message
    assert caught.value.__cause__ is None
    assert len(guarded_server.received) == before


async def test_an_unreachable_server_fails_quickly() -> None:
    port = free_port()  # nobody listens there
    started = time.monotonic()
    with pytest.raises(MailDeliveryFailed, match=rf"127\.0\.0\.1:{port}: ConnectionRefusedError"):
        await smtp_sender(SmtpServer(), port=port).send(Mail(MailKind.TEST, to="ops@example.com"))
    assert time.monotonic() - started < 5


async def test_starttls_the_server_does_not_offer_fails(smtp_server: SmtpServer) -> None:
    with pytest.raises(MailDeliveryFailed, match="SMTPNotSupportedError"):
        await smtp_sender(smtp_server, tls="starttls").send(
            Mail(MailKind.TEST, to="ops@example.com")
        )
    assert smtp_server.received == []


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that takes connections and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


@pytest.mark.parametrize("tls", ["none", "ssl"])
async def test_a_silent_server_times_out(silent_port: int, tls: str) -> None:
    sender = smtp_sender(SmtpServer(), port=silent_port, tls=tls, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(MailDeliveryFailed, match=rf":{silent_port}: .*no answer within 0.3 s"):
        await sender.send(Mail(MailKind.TEST, to="ops@example.com"))
    assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    "to", ["ada@example.com\r\nBcc: all@example.com", "a@example.com\n", "a@example.com\rX: y"]
)
async def test_a_recipient_with_a_line_break_is_refused(smtp_server: SmtpServer, to: str) -> None:
    with pytest.raises(MailDeliveryFailed, match="single line"):
        await smtp_sender(smtp_server).send(Mail(MailKind.TEST, to=to))
    assert smtp_server.received == []


def mail_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(text) for text in capsys.readouterr().err.splitlines() if text]


async def test_the_logging_sender_shows_the_link_in_development(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", "json")  # as the app does, redaction included
    sender = LoggingEmailSender(sender=SENDER, base_url=BASE, show_links=True)
    await sender.send(
        Mail(MailKind.PASSWORD_RESET, to="ada@example.com", token=TOKEN, expires_in_minutes=30)
    )
    [line] = mail_lines(capsys)
    link = f"{BASE}/reset-password?token={TOKEN}"
    assert line["logger"] == "keel.mail"
    assert line["level"] == "info"
    assert (line["to"], line["from"]) == ("ada@example.com", SENDER)
    assert line["subject"] == "Reset your Keel password"
    assert line["link"] == link
    # Only the link field is let through; the copy in the body is redacted as usual.
    assert f"\n{BASE}/reset-password?token=[REDACTED]\n" in line["body"]
    assert "within 30 minutes" in line["body"]


async def test_the_logging_sender_hides_the_token_when_links_are_off(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", "json")
    sender = LoggingEmailSender(sender=SENDER, base_url=BASE, show_links=False)
    await sender.send(
        Mail(MailKind.VERIFY_EMAIL, to="ada@example.com", token=TOKEN, expires_in_minutes=60)
    )
    [line] = mail_lines(capsys)
    assert line["link"] == f"{BASE}/verify-email?token=[hidden]"
    assert f"{BASE}/verify-email?token=" in line["body"]
    assert TOKEN not in json.dumps(line)
    assert "NOT delivered" in line["event"]


async def test_the_logging_sender_writes_one_console_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", "console")
    sender = LoggingEmailSender(sender=SENDER, base_url=BASE, show_links=True)
    await sender.send(Mail(MailKind.WELCOME, to="ada@example.com", full_name="Ada"))
    [line] = [text for text in capsys.readouterr().err.splitlines() if text]
    assert "Welcome to Keel" in line
    assert "Hello Ada," in line


def container_sender(tmp_path: Path, **values: Any) -> EmailSender:
    settings = Settings(
        jwt_secret="x" * 48,
        jwt_secret_file=tmp_path / "secret",
        public_base_url=BASE,
        email_from=SENDER,
        _env_file=None,
        **values,
    )
    sender: EmailSender = build_container(settings).email_sender()
    return sender


async def test_the_container_sends_through_smtp_when_a_host_is_set(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    sender = container_sender(
        tmp_path, smtp_host=smtp_server.host, smtp_port=smtp_server.port, smtp_tls="none"
    )
    await sender.send(Mail(MailKind.TEST, to="ops@example.com"))
    assert smtp_server.wait_for(1)[0].message["Subject"] == "Keel test message"


@pytest.mark.parametrize(
    ("environment", "shown"), [("development", True), ("test", True), ("production", False)]
)
async def test_the_container_logs_mail_without_a_host_and_hides_tokens_when_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], environment: str, shown: bool
) -> None:
    configure_logging("INFO", "json")
    # Production names its database and hosts; the mail settings are what is looked at here.
    named = {
        "database_url": "postgresql+asyncpg://keel@db/keel",
        "trusted_hosts": "api.test",
        "encryption_key": "IupzHTMrOXaFMRE85WOTEYIcs3NDLK0WVQIWfYBM1Jc=",
    }
    sender = container_sender(
        tmp_path, environment=environment, **(named if environment == "production" else {})
    )
    await sender.send(
        Mail(MailKind.VERIFY_EMAIL, to="ada@example.com", token=TOKEN, expires_in_minutes=60)
    )
    [line] = mail_lines(capsys)
    assert (TOKEN in line["link"]) is shown


async def test_a_mail_sent_again_by_the_same_job_keeps_its_message_id(
    smtp_server: SmtpServer,
) -> None:
    """At least once: a job run again after a crash sends a mail the receiving side can tell
    is the same; mail sent outside a job, or by another job, gets an id of its own."""
    mail = Mail(MailKind.WELCOME, to="ada@example.com", full_name="Ada")
    sender = smtp_sender(smtp_server)
    job = str(uuid.uuid4())
    for key in (job, job, str(uuid.uuid4()), None):
        token = running_job.set(key)
        try:
            await sender.send(mail)
        finally:
            running_job.reset(token)
    ids = [r.message["Message-ID"] for r in smtp_server.wait_for(4)]
    assert ids[0] == ids[1] == f"<{job}.welcome@example.com>"
    assert len(set(ids)) == 3
