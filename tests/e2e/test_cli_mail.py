"""`keel send-test-email` end to end: the real console script in a subprocess, mailing the
SMTP server started by the tests, or writing the mail to its log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.cli_support import assert_error, assert_ok, keel_env, run_keel
from tests.support.postgres import free_port
from tests.support.smtp import SmtpServer

SENDER = "Keel <no-reply@example.com>"


def smtp_env(tmp_path: Path, server: SmtpServer, **extra: str) -> dict[str, str]:
    values = {
        "SMTP_HOST": server.host,
        "SMTP_PORT": str(server.port),
        "SMTP_TLS": "none",
        "EMAIL_FROM": SENDER,
    }
    return keel_env(tmp_path, **(values | extra))


def test_a_test_mail_reaches_the_smtp_server(tmp_path: Path, smtp_server: SmtpServer) -> None:
    result = run_keel(
        ["send-test-email", "--to", "Ops@Example.com"],
        env=smtp_env(tmp_path, smtp_server),
        cwd=tmp_path,
    )
    assert_ok(result)
    assert result.stdout == (
        f"sent a test mail to ops@example.com via SMTP {smtp_server.host}:{smtp_server.port}\n"
    )
    [received] = smtp_server.wait_for(1)
    assert received.rcpt_tos == ["ops@example.com"]
    assert received.message["From"] == SENDER
    assert received.message["Subject"] == "Keel test message"
    assert "Mail delivery works." in received.part("plain")


def test_without_smtp_host_the_mail_goes_to_the_log(tmp_path: Path) -> None:
    result = run_keel(
        ["send-test-email", "--to", "ops@example.com"], env=keel_env(tmp_path), cwd=tmp_path
    )
    assert_ok(result)
    assert result.stdout == (
        "sent a test mail to ops@example.com via the log (SMTP_HOST is not set)\n"
    )
    [line] = [text for text in result.stderr.splitlines() if "keel.mail" in text]
    assert "Keel test message" in line
    assert "ops@example.com" in line


def test_a_bad_address_is_refused(tmp_path: Path, smtp_server: SmtpServer) -> None:
    result = run_keel(
        ["send-test-email", "--to", "not-an-address"],
        env=smtp_env(tmp_path, smtp_server),
        cwd=tmp_path,
    )
    assert_error(result, "email")
    assert result.stdout == ""
    assert smtp_server.received == []


def test_an_unreachable_smtp_server_is_one_error_line(tmp_path: Path) -> None:
    port = free_port()  # nobody listens there
    env = keel_env(tmp_path, SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_TLS="none")
    result = run_keel(["send-test-email", "--to", "ops@example.com"], env=env, cwd=tmp_path)
    assert_error(result, "mail not delivered", f"127.0.0.1:{port}", "ConnectionRefusedError")


@pytest.fixture(scope="module")
def guarded_server() -> Iterator[SmtpServer]:
    server = SmtpServer(user="keel", password="s3cret-pass")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_a_refused_login_does_not_show_the_password(
    tmp_path: Path, guarded_server: SmtpServer
) -> None:
    env = smtp_env(tmp_path, guarded_server, SMTP_USER="keel", SMTP_PASSWORD="wrong-pass-123")
    result = run_keel(["send-test-email", "--to", "ops@example.com"], env=env, cwd=tmp_path)
    line = assert_error(result, "mail not delivered", "SMTPAuthenticationError")
    assert "wrong-pass-123" not in result.stdout + result.stderr
    assert line.startswith("error: mail not delivered: SMTP server 127.0.0.1:")
