"""Rules for free text that users send: what characters a stored string may hold."""

from __future__ import annotations

from domain.errors import ValidationFailed

_ALLOWED_CONTROLS = {"\n", "\r", "\t"}


def check_text(
    field: str, value: str, *, max_length: int, min_length: int = 0, multiline: bool = False
) -> str:
    """Refuse NUL and other control characters (newlines and tabs too, unless ``multiline``),
    lone surrogates, and lengths outside the bounds. Returns the value unchanged."""
    if len(value) < min_length:
        raise ValidationFailed(field, f"Must be at least {min_length} characters", "too_short")
    if len(value) > max_length:
        raise ValidationFailed(field, f"Must be at most {max_length} characters", "too_long")
    for ch in value:
        code = ord(ch)
        if 0xD800 <= code <= 0xDFFF or code == 0x7F:
            raise ValidationFailed(field, "Contains characters that are not allowed")
        if code < 0x20 and not (multiline and ch in _ALLOWED_CONTROLS):
            raise ValidationFailed(field, "Contains characters that are not allowed")
    return value


def is_storable(value: str) -> bool:
    """Whether every database can store ``value`` as text: no NUL, no lone surrogate
    (PostgreSQL refuses both; neither is ever meaningful in user input)."""
    return not any(ch == "\x00" or 0xD800 <= ord(ch) <= 0xDFFF for ch in value)
