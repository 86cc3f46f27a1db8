"""Cleaning a client's filename into something safe to show and to put in a header: kept
as metadata only, never used as a path."""

from __future__ import annotations

import unicodedata

MAX_FILENAME_BYTES = 255
MAX_EXTENSION_BYTES = 16
FALLBACK_FILENAME = "attachment"

# Bidirectional embeddings, overrides, isolates and marks: they make "a\u202egnp.exe"
# read as "aexe.png".
_BIDI = frozenset(
    chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)
)


def clean_filename(raw: str | None) -> str:
    """The last path segment (``/`` and ``\\`` both separate), NFC, with control, format
    and bidirectional characters removed, leading and trailing dots and spaces trimmed,
    at most 255 bytes of UTF-8 (the extension kept); ``attachment`` when nothing is left."""
    if not raw:
        return FALLBACK_FILENAME
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if _keep(ch))
    name = name.strip(". ")
    name = _shorten(name)
    return name or FALLBACK_FILENAME


def _keep(ch: str) -> bool:
    if ch in _BIDI:
        return False
    # Cc: controls (NUL included); Cf: invisible format characters; Cs: lone surrogates;
    # Co, Cn: private and unassigned; Zl, Zp: line and paragraph separators.
    return unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def _shorten(name: str) -> str:
    if len(name.encode()) <= MAX_FILENAME_BYTES:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension.encode()) > MAX_EXTENSION_BYTES:
        stem, extension = name, ""
    suffix = f".{extension}" if extension else ""
    budget = MAX_FILENAME_BYTES - len(suffix.encode())
    # Cut on a character boundary, never inside a UTF-8 sequence.
    kept = stem.encode()[:budget].decode(errors="ignore").rstrip(". ")
    return kept + suffix
