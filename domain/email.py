"""The Email value object: one normal form, so that lookups and uniqueness never depend on case."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from domain.errors import InvalidEmail

MAX_LENGTH = 254
MAX_LOCAL_LENGTH = 64
# A label of a domain name: letters (any script), digits, inner hyphens.
_LABEL = re.compile(r"^(?!-)[\w-]{1,63}(?<!-)$", re.UNICODE)
_LOCAL_FORBIDDEN = set(' "(),:;<>[\\]@')


@dataclass(frozen=True, slots=True)
class Email:
    """A normalised email address: NFC, trimmed, lower-cased; compared by value."""

    value: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", _normalise(self.value))

    @classmethod
    def stored(cls, value: str) -> Email:
        """An address read back from storage, where only normal forms are ever written:
        not checked again on every read."""
        email = object.__new__(cls)
        object.__setattr__(email, "value", value)
        return email

    def __str__(self) -> str:
        return self.value

    @property
    def domain(self) -> str:
        return self.value.rpartition("@")[2]


def _normalise(raw: str) -> str:
    if not isinstance(raw, str):
        raise InvalidEmail()
    text = unicodedata.normalize("NFC", raw.strip()).lower()
    if not text or len(text) > MAX_LENGTH:
        raise InvalidEmail()
    if any(unicodedata.category(ch).startswith(("C", "Z")) for ch in text):
        # Control characters, NUL, lone surrogates, and any kind of space.
        raise InvalidEmail()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain or len(local) > MAX_LOCAL_LENGTH:
        raise InvalidEmail()
    if (
        _LOCAL_FORBIDDEN & set(local)
        or local.startswith(".")
        or local.endswith(".")
        or ".." in local
    ):
        raise InvalidEmail()
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise InvalidEmail()
    if labels[-1].isdigit() or "_" in domain:
        raise InvalidEmail()
    return text
