"""The Email value object: one normal form, so that lookups and uniqueness never depend on how
an address was typed."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from domain.errors import InvalidEmail

MAX_LENGTH = 254
MAX_LOCAL_LENGTH = 64
MAX_LABEL_LENGTH = 63
MAX_DOMAIN_LENGTH = 253
_ACE_PREFIX = "xn--"
_ASCII_LABEL_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
_LOCAL_FORBIDDEN = set(' "(),:;<>[\\]@')
# The other full stops IDNA separates labels with (NFKC already maps the fullwidth one).
_LABEL_SEPARATORS = str.maketrans({"\u3002": ".", "\uff61": "."})
# Folding a few exotic characters can change what folds next: a handful of rounds settles
# every real address, and one that never settles is refused.
_FOLD_ROUNDS = 3


@dataclass(frozen=True, slots=True)
class Email:
    """A normalised email address, compared by value: trimmed, NFKC, lower-cased, and its
    domain in ASCII (IDNA: internationalised labels in punycode), so ``Ada@Example.com``
    typed in fullwidth letters and ``ada@example.com`` are one address, as are
    ``ada@bücher.example`` and ``ada@xn--bcher-kva.example``. The local part keeps its
    Unicode letters."""

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
    text = _fold(raw)
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
    address = f"{local}@{_ascii_domain(domain)}"
    if len(address) > MAX_LENGTH:
        raise InvalidEmail()
    return address


def _fold(text: str) -> str:
    """NFKC (fullwidth and other compatibility forms to their plain letters), trimmed,
    lower-cased, until nothing changes."""
    for _ in range(_FOLD_ROUNDS):
        folded = unicodedata.normalize("NFKC", text).strip().lower()
        if folded == text:
            return text
        text = folded
    raise InvalidEmail()


def _ascii_domain(domain: str) -> str:
    """The domain as DNS knows it: every label ASCII, an internationalised one as ``xn--``
    and its punycode. Labels are mapped as IDNA2008 does (``ß`` stays itself rather than
    becoming ``ss``: ``straße.de`` and ``strasse.de`` are different domains)."""
    labels = [_ascii_label(label) for label in domain.translate(_LABEL_SEPARATORS).split(".")]
    ascii_domain = ".".join(labels)
    if len(labels) < 2 or labels[-1].isdigit() or len(ascii_domain) > MAX_DOMAIN_LENGTH:
        raise InvalidEmail()
    return ascii_domain


def _ascii_label(label: str) -> str:
    if label.isascii():
        if not _is_ascii_label(label):
            raise InvalidEmail()
        if label.startswith(_ACE_PREFIX) and _to_ascii(_from_ascii(label)) != label:
            raise InvalidEmail()
        return label
    return _to_ascii(label)


def _is_ascii_label(label: str) -> bool:
    return (
        0 < len(label) <= MAX_LABEL_LENGTH
        and set(label) <= _ASCII_LABEL_CHARACTERS
        and not label.startswith("-")
        and not label.endswith("-")
    )


def _to_ascii(label: str) -> str:
    """``xn--`` and the punycode of an internationalised label: letters and digits of any
    script, their combining marks, and inner hyphens."""
    if (
        label.startswith("-")
        or label.endswith("-")
        or _is_mark(label[0])
        or not all(ch == "-" or ch.isalnum() or _is_mark(ch) for ch in label)
    ):
        raise InvalidEmail()
    encoded = _ACE_PREFIX + label.encode("punycode").decode("ascii")
    if len(encoded) > MAX_LABEL_LENGTH:
        raise InvalidEmail()
    return encoded


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch).startswith("M")


def _from_ascii(label: str) -> str:
    """The Unicode label an ``xn--`` label stands for: one that is not Unicode, not in normal
    form, or not punycode at all is refused, so each domain has one spelling."""
    try:
        decoded = label[len(_ACE_PREFIX) :].encode("ascii").decode("punycode")
    except (UnicodeError, ValueError, IndexError, OverflowError):
        raise InvalidEmail() from None
    if not decoded or decoded.isascii() or _fold(decoded) != decoded:
        raise InvalidEmail()
    return decoded
