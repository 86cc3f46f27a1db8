"""TOTP (RFC 6238) with pyotp: 30-second steps, six digits, SHA-1, as authenticator apps
expect; the QR code drawn by segno, as SVG."""

from __future__ import annotations

import hmac
import io
from datetime import datetime

import pyotp
import segno

STEP_SECONDS = 30


class PyOtpTotp:
    def new_secret(self) -> str:
        return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends

    def matching_step(self, secret: str, code: str, now: datetime, drift: int) -> int | None:
        if len(code) != 6 or not code.isascii() or not code.isdigit():
            return None
        totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
        current = int(now.timestamp()) // STEP_SECONDS
        found = None
        # Every candidate is computed and compared, so the time taken tells nothing.
        for step in range(current - drift, current + drift + 1):
            if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
                found = step
        return found

    def provisioning_uri(self, secret: str, account: str, issuer: str) -> str:
        return pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(
            name=account, issuer_name=issuer
        )

    def qr_svg(self, uri: str) -> str:
        out = io.BytesIO()
        segno.make(uri, error="m").save(out, kind="svg", xmldecl=False, scale=4)
        return out.getvalue().decode()
