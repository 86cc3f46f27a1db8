"""The Item entity: something a user owns."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from domain.errors import Conflict, NotFound, PreconditionFailed
from domain.text import check_text

MAX_TITLE_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 10_000


class ItemNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Item not found")


class ItemChanged(PreconditionFailed):
    def __init__(self) -> None:
        super().__init__("The item has changed since it was read")


class ItemBusy(Conflict):
    """Concurrent writers kept changing the item while an unconditional change was tried
    again; rare, and only where the database has no row locks (SQLite)."""

    def __init__(self) -> None:
        super().__init__("The item is being changed by other requests: try again")


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

    def ensure_version_in(self, expected_versions: Collection[int] | None) -> None:
        """A conditional change goes ahead only while the item is still at one of the
        versions the caller read (None: no condition; an empty collection never matches)."""
        if expected_versions is not None and self.version not in expected_versions:
            raise ItemChanged()


def normalise_title(title: str) -> str:
    """One line of 1 to 200 characters, trimmed."""
    return check_text("title", title.strip(), min_length=1, max_length=MAX_TITLE_LENGTH)


def normalise_description(description: str | None) -> str | None:
    """Up to 10,000 characters; line breaks and tabs allowed."""
    if description is None:
        return None
    return check_text("description", description, max_length=MAX_DESCRIPTION_LENGTH, multiline=True)
