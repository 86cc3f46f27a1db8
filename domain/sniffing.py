"""The type of a file, decided from its first bytes alone: what the client says is never
believed. Plain text is only text no browser would take for markup."""

from __future__ import annotations

import codecs

PNG = "image/png"
JPEG = "image/jpeg"
WEBP = "image/webp"
GIF = "image/gif"
PDF = "application/pdf"
TEXT = "text/plain"
KNOWN_TYPES = (PNG, JPEG, WEBP, GIF, PDF, TEXT)
# Enough for every signature and for the markup check, as browsers sniff (WHATWG: 1445
# bytes at most; 512 is what they look at in practice).
SNIFF_BYTES = 512

_WHITESPACE = b"\t\n\x0c\r "
# WHATWG MIME sniffing, "HTML" patterns: each must be followed by a space or ">".
_TAGS = (
    b"<!doctype html", b"<html", b"<head", b"<script", b"<iframe", b"<h1", b"<div",
    b"<font", b"<table", b"<a", b"<style", b"<title", b"<b", b"<body", b"<br", b"<p",
)  # fmt: skip
# Markup that needs no terminator: comments, XML (and so SVG, XHTML, RSS...), SVG itself.
_PREFIXES = (b"<!--", b"<?xml", b"<svg", b"<!doctype", b"<math", b"<object", b"<embed")
_TAG_END = b" >\t\n\x0c\r/"


def sniff(head: bytes, *, complete: bool) -> str | None:
    """The type of content starting with ``head`` (``complete``: that is the whole
    content), or None when it is none of the known types."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if len(head) >= 12 and head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    if is_plain_text(head, complete=complete):
        return TEXT
    return None


def is_plain_text(head: bytes, *, complete: bool) -> bool:
    """UTF-8 without NUL (a sequence cut at the end of ``head`` is fine unless it is the
    whole content), and not starting like HTML or XML."""
    if b"\x00" in head:
        return False
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=complete)
    except UnicodeDecodeError:
        return False
    return not looks_like_markup(head)


def looks_like_markup(head: bytes) -> bool:
    body = head.removeprefix(codecs.BOM_UTF8).lstrip(_WHITESPACE).lower()
    if body.startswith(_PREFIXES):
        return True
    for tag in _TAGS:
        if body.startswith(tag) and (
            len(body) == len(tag) or body[len(tag) : len(tag) + 1] in _TAG_END
        ):
            return True
    return False


class TextChecker:
    """Checks the rest of a text file as it streams: still UTF-8, still no NUL."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")()

    def feed(self, chunk: bytes, *, final: bool = False) -> bool:
        if b"\x00" in chunk:
            return False
        try:
            self._decoder.decode(chunk, final=final)
        except UnicodeDecodeError:
            return False
        return True
