"""The password rule every new password must meet, whichever path it comes by."""

from __future__ import annotations

from domain.errors import WeakPassword

MIN_LENGTH = 8
MAX_LENGTH = 128


def check_password_policy(password: str, field: str = "password") -> None:
    """Raise ``WeakPassword`` unless ``password`` is 8 to 128 characters of printable text."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"Password must be at least {MIN_LENGTH} characters", field)
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"Password must be at most {MAX_LENGTH} characters", field)
    if "\x00" in password or any(0xD800 <= ord(ch) <= 0xDFFF for ch in password):
        raise WeakPassword("Password contains characters that are not allowed", field)
    if not password.strip():
        raise WeakPassword("Password must not be only whitespace", field)
