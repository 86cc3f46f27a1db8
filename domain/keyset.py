"""Keyset pages: the next page is read from the last row's key, at the same cost however
deep it is. The cursor a client holds is opaque text; a forged or damaged one is refused
as invalid input, never trusted."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.errors import ValidationFailed
from domain.pagination import MAX_PAGE

_MAX_CURSOR_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Cursor:
    """The key of the last row shown (newest first: the next page holds rows strictly
    older, ties broken by id), and the number of the page it leads to."""

    at: datetime
    id: uuid.UUID
    page: int

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
