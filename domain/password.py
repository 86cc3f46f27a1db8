"""The password rule every new password must meet, whichever path it comes by."""

from __future__ import annotations

from collections.abc import Callable

from domain.errors import WeakPassword

MIN_LENGTH = 8
MAX_LENGTH = 128


def check_password_policy(
    password: str, field: str = "password", is_common: Callable[[str], bool] | None = None
) -> None:
    """Raise ``WeakPassword`` unless ``password`` is 8 to 128 characters of printable text
    and, when ``is_common`` is given, not one of the passwords attackers try first."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"Password must be at least {MIN_LENGTH} characters", field)
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"Password must be at most {MAX_LENGTH} characters", field)
    if "\x00" in password or any(0xD800 <= ord(ch) <= 0xDFFF for ch in password):
        raise WeakPassword("Password contains characters that are not allowed", field)
    if not password.strip():
        raise WeakPassword("Password must not be only whitespace", field)
    if is_common is not None and is_common(password):
        raise WeakPassword("This password is too common: choose one that is harder to guess", field)
