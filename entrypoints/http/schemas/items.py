"""The bodies of the item operations."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from application.changes import ItemChanges
from domain.item import MAX_DESCRIPTION_LENGTH, MAX_TITLE_LENGTH, Item
from entrypoints.http.schemas.common import (
    EXAMPLE_CREATED_AT,
    EXAMPLE_CURSOR,
    EXAMPLE_ITEM_ID,
    EXAMPLE_UPDATED_AT,
    EXAMPLE_USER_ID,
    MULTI_LINE,
    NOT_BLANK_ONE_LINE,
    OMITTED,
    PageOut,
    documented_pattern,
    examples,
)
from entrypoints.http.schemas.serialisers import Fields, serialised

EXAMPLE_ITEM: dict[str, Any] = {
    "id": EXAMPLE_ITEM_ID,
    "owner_id": EXAMPLE_USER_ID,
    "title": "Buy milk",
    "description": "Two litres, semi-skimmed",
    "created_at": EXAMPLE_CREATED_AT,
    "updated_at": EXAMPLE_UPDATED_AT,
}


TitleField = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_TITLE_LENGTH,
        description=f"One line of 1 to {MAX_TITLE_LENGTH} characters once trimmed, "
        "no control characters",
        examples=["Buy milk"],
    ),
    documented_pattern(NOT_BLANK_ONE_LINE),
]
DescriptionField = Annotated[
    str | None,
    Field(
        max_length=MAX_DESCRIPTION_LENGTH,
        description="Line breaks and tabs allowed, other control characters not",
        examples=["Two litres, semi-skimmed"],
    ),
    documented_pattern(MULTI_LINE),
]


class ItemCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"title": "Buy milk", "description": "Two litres, semi-skimmed"},
                {"title": "Call the plumber"},
            ]
        },
    )

    title: TitleField
    description: DescriptionField = None


class ItemUpdate(BaseModel):
    """Only the fields sent are changed; ``title`` cannot be ``null``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"title": "Buy oat milk"}, {"description": None}]},
    )

    title: TitleField = OMITTED
    description: DescriptionField = None

    def changes(self) -> ItemChanges:
        return ItemChanges(**self.model_dump(include=self.model_fields_set))


@serialised(Item)
class ItemOut(BaseModel):
    model_config = examples(EXAMPLE_ITEM)

    id: uuid.UUID
    owner_id: uuid.UUID
    title: str
    description: str | None
    created_at: datetime
    updated_at: datetime

    of: ClassVar[Callable[[Item], Fields]]


class ItemPage(PageOut[ItemOut]):
    """A page of items, newest first."""

    model_config = examples(
        {
            "items": [EXAMPLE_ITEM],
            "total": 21,
            "page": 1,
            "page_size": 20,
            "has_next": True,
            "total_is_exact": True,
            "next_cursor": EXAMPLE_CURSOR,
        }
    )
