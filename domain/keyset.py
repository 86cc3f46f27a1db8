"""Keyset pages: the next page is read from the last row's key, at the same cost however
deep it is. The cursor a client holds is opaque text; a forged or damaged one is refused
as invalid input, never trusted."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from domain.errors import ValidationFailed
from domain.pagination import MAX_PAGE, Page, PageRequest

_MAX_CURSOR_LENGTH = 200
# A signed cursor: the text above, a dot and the MAC (22 characters).
MAX_SIGNED_CURSOR_LENGTH = _MAX_CURSOR_LENGTH + 23


@dataclass(frozen=True, slots=True)
class Cursor:
    """The key of the last row shown (newest first: the next page holds rows strictly
    older, ties broken by id), and the number of the page it leads to."""

    at: datetime
    id: uuid.UUID
    page: int

    @property
    def key(self) -> Key:
        return Key(at=self.at, id=self.id)

    def encode(self) -> str:
        text = f"{self.at.astimezone(UTC).isoformat()}|{self.id}|{self.page}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            if len(text) > _MAX_CURSOR_LENGTH or not text.isascii():
                raise ValueError
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            at_text, id_text, page_text = raw.split("|")
            at = datetime.fromisoformat(at_text)
            page = int(page_text)
            if at.tzinfo is None or not 2 <= page <= MAX_PAGE:
                raise ValueError
            return cls(at=at.astimezone(UTC), id=uuid.UUID(id_text), page=page)
        except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
            raise ValidationFailed("cursor", "Not a cursor this service gave", "cursor") from exc


@dataclass(frozen=True, slots=True)
class Key:
    """Where a keyset page starts: strictly after the row with this (created_at, id), in
    the newest-first order every listing uses."""

    at: datetime
    id: uuid.UUID


class Keyed(Protocol):
    @property
    def created_at(self) -> datetime: ...

    @property
    def id(self) -> uuid.UUID: ...


K = TypeVar("K", bound=Keyed)


def scope_of(*parts: object) -> str:
    """A listing's scope from its name, caller and filters, one way only (``None`` and
    ``"None"`` differ)."""
    return json.dumps([None if p is None else str(p) for p in parts])


class CursorCodec:
    """Cursors a client cannot forge or carry elsewhere: the ``Cursor`` text, then an HMAC
    over it and the listing's *scope* (the listing, the caller and the filters it was made
    for). A cursor that does not check out for the scope it is sent to (tampered,
    truncated, of an older format, made for other filters or for someone else) is refused
    as invalid input, so it can never lead to rows its bearer would not see anyway."""

    __slots__ = ("_key",)

    def __init__(self, secret: str | bytes) -> None:
        material = secret.encode() if isinstance(secret, str) else secret
        # A key of its own, derived from the application's secret: a cursor's MAC is never
        # something that would verify as a token, nor the reverse.
        self._key = hmac.new(material, b"keel keyset cursor v1", hashlib.sha256).digest()

    def encode(self, cursor: Cursor, scope: str) -> str:
        body = cursor.encode()
        return f"{body}.{self._mac(body, scope)}"

    def decode(self, text: str, scope: str) -> Cursor:
        body, dot, mac = text.partition(".")
        if not dot or not hmac.compare_digest(mac.encode(), self._mac(body, scope).encode()):
            raise ValidationFailed("cursor", "Not a cursor this service gave", "cursor")
        return Cursor.decode(body)

    def resume(self, request: PageRequest, cursor: str | None, scope: str) -> PageRequest:
        """``request``, or with a ``cursor`` the page it leads to (after its key)."""
        if cursor is None:
            return request
        found = self.decode(cursor, scope)
        return replace(request, page=found.page, after=found.key)

    def finish(self, page: Page[K], scope: str) -> Page[K]:
        """``page`` with the cursor of the page after it, when there is one."""
        if not page.has_next or not page.items or page.page >= MAX_PAGE:
            return page
        last = page.items[-1]
        following = Cursor(at=last.created_at, id=last.id, page=page.page + 1)
        return replace(page, next_cursor=self.encode(following, scope))

    def _mac(self, body: str, scope: str) -> str:
        digest = hmac.new(self._key, f"{body}\n{scope}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")
