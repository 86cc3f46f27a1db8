"""The Item entity: something a user owns."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from domain.errors import NotFound
from domain.text import check_text

MAX_TITLE_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 10_000


class ItemNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Item not found")


@dataclass(slots=True)
class Item:
    id: uuid.UUID
    owner_id: uuid.UUID
    title: str
    description: str | None
    created_at: datetime
    updated_at: datetime
    version: int = field(default=1)

    @classmethod
    def create(
        cls, *, owner_id: uuid.UUID, title: str, description: str | None, now: datetime
    ) -> Item:
        return cls(
            id=uuid.uuid4(),
            owner_id=owner_id,
            title=normalise_title(title),
            description=normalise_description(description),
            created_at=now,
            updated_at=now,
        )

    def retitle(self, title: str) -> None:
        self.title = normalise_title(title)

    def describe(self, description: str | None) -> None:
        self.description = normalise_description(description)

    def touch(self, now: datetime) -> None:
        self.updated_at = now
        self.version += 1


def normalise_title(title: str) -> str:
    """One line of 1 to 200 characters, trimmed."""
    return check_text("title", title.strip(), min_length=1, max_length=MAX_TITLE_LENGTH)


def normalise_description(description: str | None) -> str | None:
    """Up to 10,000 characters; line breaks and tabs allowed."""
    if description is None:
        return None
    return check_text("description", description, max_length=MAX_DESCRIPTION_LENGTH, multiline=True)
