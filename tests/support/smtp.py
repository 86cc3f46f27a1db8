"""A real SMTP server for the tests (aiosmtpd), on a free loopback port, keeping what it
receives. With ``user``/``password`` set it demands that login (over the plain connection)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import socket
import threading
import time
import warnings
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        content: str = body.get_content()
        return content


class _Inbox:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.condition = threading.Condition()
        self.hold_seconds = 0.0
        self.held = 0  # messages whose acceptance was held back so far

    async def handle_DATA(self, server: SMTP, _session: Session, envelope: Envelope) -> str:  # noqa: N802
        if self.hold_seconds:
            with self.condition:
                self.held += 1
                self.condition.notify_all()
            deadline = time.monotonic() + self.hold_seconds
            # Released from the test's thread: a plain attribute, looked at often.
            while self.hold_seconds and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            if server.transport is None or server.transport.is_closing():
                return "421 The sender went away"  # never accepted: not received
        raw = envelope.original_content or b""  # the bytes as received
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.condition:
            self.received.append(
                Received(envelope.mail_from or "", list(envelope.rcpt_tos), message)
            )
            self.condition.notify_all()
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, user: str | None = None, password: str | None = None) -> None:
        self.host = "127.0.0.1"
        self.port = _free_port()
        self.user, self.password = user, password
        self._inbox = _Inbox()
        options: dict[str, Any] = {}
        if user is not None:
            options = {
                "authenticator": self._authenticate,
                "auth_required": True,
                "auth_require_tls": False,  # loopback only: the test checks the login, not TLS
                # One mechanism: a refused login is then one clear refusal.
                "auth_exclude_mechanism": ["LOGIN"],
            }
        self._controller = Controller(self._inbox, hostname=self.host, port=self.port, **options)

    def _authenticate(
        self, _server: SMTP, _session: Session, _envelope: Envelope, _mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == self.user
            and data.password.decode() == self.password
        )
        return AuthResult(success=ok, handled=False)

    def start(self) -> None:
        # The server's own chatter ("connection lost", from its thread, whenever a client
        # goes) would land in whatever test is capturing the log at that moment.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
            self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def hold(self, seconds: float) -> None:
        """Keep each message's sender waiting this long before it is accepted (0: at once,
        releasing those held now); one whose sender went away meanwhile is not received."""
        self._inbox.hold_seconds = seconds

    def wait_until_held(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        with self._inbox.condition:
            while self._inbox.held < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self._inbox.held} of {count} held after {timeout} s")
                self._inbox.condition.wait(left)

    def clear(self) -> None:
        with self._inbox.condition:
            self._inbox.received.clear()

    @property
    def received(self) -> list[Received]:
        with self._inbox.condition:
            return list(self._inbox.received)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """At least ``count`` messages, or an AssertionError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._inbox.condition:
            while len(self._inbox.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{len(self._inbox.received)} of {count} messages after {timeout} s"
                    )
                self._inbox.condition.wait(left)
            return list(self._inbox.received)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
