"""Attachments' filenames are cleaned and their types sniffed from the bytes alone."""

from __future__ import annotations

import pytest

from domain.filenames import FALLBACK_FILENAME, MAX_FILENAME_BYTES, clean_filename
from domain.sniffing import GIF, JPEG, PDF, PNG, TEXT, WEBP, TextChecker, sniff

PNG_HEAD = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ada\\report.pdf", "report.pdf"),
        ("a\u202egnp.exe", "agnp.exe"),
        ("\u2066evil\u2069.txt\u200e", "evil.txt"),
        ("nul\x00byte.txt", "nulbyte.txt"),
        ("tab\tand\nnewline.txt", "tabandnewline.txt"),
        ("  ..hidden.. ", "hidden"),
        ("e\u0301te\u0301.txt", "\u00e9t\u00e9.txt"),  # NFC
        ("", FALLBACK_FILENAME),
        (None, FALLBACK_FILENAME),
        ("../..", FALLBACK_FILENAME),
        ("\u202e\x00/", FALLBACK_FILENAME),
    ],
)
def test_filenames_are_cleaned(raw: str | None, clean: str) -> None:
    assert clean_filename(raw) == clean


def test_a_long_name_is_cut_to_255_bytes_keeping_its_extension() -> None:
    name = clean_filename("x" * 300 + ".png")
    assert len(name.encode()) == MAX_FILENAME_BYTES
    assert name.endswith(".png")
    wide = clean_filename("é" * 300 + ".pdf")
    assert len(wide.encode()) <= MAX_FILENAME_BYTES
    assert wide.endswith(".pdf")
    wide.encode().decode()  # never a cut UTF-8 sequence


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (PNG_HEAD, PNG),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", JPEG),
        (b"GIF89a\x01\x00", GIF),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", WEBP),
        (b"%PDF-1.7\n", PDF),
        (b"hello, world\n", TEXT),
        ("ünïcode text".encode(), TEXT),
        (b"", TEXT),
        (PNG_HEAD + b"<html><script>alert(1)</script>", PNG),  # a PNG is a PNG: served so
    ],
)
def test_known_types_are_sniffed(head: bytes, kind: str) -> None:
    assert sniff(head, complete=True) == kind


@pytest.mark.parametrize(
    "head",
    [
        b"<!DOCTYPE html><p>hi",
        b"  \n\t<HTML>",
        b"<script>alert(1)</script>",
        b"<iframe src=x>",
        b"<?xml version='1.0'?><svg/>",
        b"<svg xmlns='http://www.w3.org/2000/svg'>",
        b"\xef\xbb\xbf<html>",
        b"<!-- comment -->",
        b"<b>bold</b>",
        b"MZ\x90\x00\x03\x00",  # an executable: NUL bytes
        b"\xff\xfe<\x00h\x00",  # UTF-16
        b"\xc3\x28 invalid utf-8",
    ],
)
def test_markup_and_binary_are_not_text(head: bytes) -> None:
    assert sniff(head, complete=True) is None


def test_text_that_merely_mentions_tags_is_text() -> None:
    assert sniff(b"use <b> for bold", complete=True) == TEXT
    assert sniff(b"<bogus> is not a tag browsers sniff", complete=True) == TEXT


def test_a_utf8_sequence_cut_by_the_sniffing_window_is_still_text() -> None:
    head = "é".encode()[:1]
    assert sniff(b"abc" + head, complete=False) == TEXT
    assert sniff(b"abc" + head, complete=True) is None


def test_the_rest_of_a_text_file_is_checked_as_it_streams() -> None:
    checker = TextChecker()
    assert checker.feed(b"caf" + "é".encode()[:1])
    assert checker.feed("é".encode()[1:] + b" ok")
    assert not checker.feed(b"then a \x00")
    assert not TextChecker().feed(b"\xff")
    assert not TextChecker().feed("é".encode()[:1], final=True)
