"""Signed cursors: what the codec gives back it takes, for the same scope only; anything
else is a ValidationFailed on `cursor`, never another error."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import ValidationFailed
from domain.keyset import Cursor, CursorCodec, scope_of
from domain.pagination import MAX_PAGE, Page, PageRequest

CODEC = CursorCodec("a secret of the application, long enough to sign with")
SCOPE = scope_of("items", uuid.UUID(int=1), uuid.UUID(int=1), None)
CURSOR = Cursor(at=datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=UTC), id=uuid.uuid4(), page=7)


def refused(text: str, scope: str = SCOPE) -> None:
    with pytest.raises(ValidationFailed) as caught:
        CODEC.decode(text, scope)
    assert caught.value.field == "cursor"


def test_a_cursor_comes_back_whole_for_its_scope() -> None:
    assert CODEC.decode(CODEC.encode(CURSOR, SCOPE), SCOPE) == CURSOR


def test_another_scope_secret_or_format_is_refused() -> None:
    text = CODEC.encode(CURSOR, SCOPE)
    refused(text, scope_of("items", uuid.UUID(int=2), uuid.UUID(int=2), None))  # someone else
    refused(text, scope_of("items", uuid.UUID(int=1), uuid.UUID(int=1), "milk"))  # other filter
    refused(text, scope_of("users", uuid.UUID(int=1), uuid.UUID(int=1), None))  # other listing
    refused(CursorCodec("another secret").encode(CURSOR, SCOPE))
    refused(CURSOR.encode())  # the unsigned format
    refused(text[:-1])
    refused(text[:20])
    refused(text + "A")
    refused("")


@pytest.mark.parametrize("position", [0, 10, 60, -5, -1])
def test_any_character_changed_is_refused(position: int) -> None:
    text = CODEC.encode(CURSOR, SCOPE)
    swapped = "B" if text[position] != "B" else "C"
    refused(text[:position] + swapped + text[position:][1:])


def test_a_signed_cursor_with_a_bad_body_is_still_refused() -> None:
    """Even signed (a leaked key, an older release's format), a body that does not parse is
    a 422: the signature is not the only check."""
    for body in ("bm90IGEgY3Vyc29y", "", base64.urlsafe_b64encode(b"x|y|0").decode()):
        text = f"{body}.{CODEC._mac(body, SCOPE)}"
        refused(text)


@given(st.text(max_size=300))
def test_random_text_is_refused_cleanly(text: str) -> None:
    refused(text)


@given(st.binary(max_size=200))
def test_random_bytes_as_a_cursor_are_refused_cleanly(data: bytes) -> None:
    body = base64.urlsafe_b64encode(data).decode().rstrip("=")
    refused(body)
    refused(f"{body}.{body[:22]}")


def test_finish_gives_the_next_cursor_only_while_rows_follow() -> None:
    rows = [Cursor(at=datetime.now(UTC) - timedelta(seconds=1), id=uuid.uuid4(), page=2)]
    keyed = [_Row(r.at, r.id) for r in rows]
    more = CODEC.finish(Page(keyed, None, 3, 1, more=True), SCOPE)
    assert more.next_cursor is not None
    following = CODEC.decode(more.next_cursor, SCOPE)
    assert (following.at, following.id, following.page) == (rows[0].at, rows[0].id, 4)
    resumed = CODEC.resume(PageRequest(1, 1), more.next_cursor, SCOPE)
    assert (resumed.page, resumed.after, resumed.offset) == (4, following.key, 0)
    assert CODEC.finish(Page(keyed, None, 3, 1, more=False), SCOPE).next_cursor is None
    assert CODEC.finish(Page(keyed, None, MAX_PAGE, 1, more=True), SCOPE).next_cursor is None


class _Row:
    def __init__(self, created_at: datetime, id: uuid.UUID) -> None:
        self.created_at = created_at
        self.id = id
