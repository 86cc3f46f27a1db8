"""The bodies of the attachment operations."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from domain.attachment import Attachment
from entrypoints.http.schemas.common import (
    EXAMPLE_CREATED_AT,
    EXAMPLE_CURSOR,
    EXAMPLE_ITEM_ID,
    PageOut,
    examples,
)
from entrypoints.http.schemas.serialisers import Fields, serialised

EXAMPLE_ATTACHMENT: dict[str, Any] = {
    "id": "0b7c1d6e-41f4-4c1b-9a7e-2f3c5d8e9a10",
    "item_id": EXAMPLE_ITEM_ID,
    "filename": "receipt.pdf",
    "content_type": "application/pdf",
    "size": 48213,
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "created_at": EXAMPLE_CREATED_AT,
}


@serialised(Attachment)
class AttachmentOut(BaseModel):
    model_config = examples(EXAMPLE_ATTACHMENT)

    id: uuid.UUID
    item_id: uuid.UUID
    filename: str = Field(
        description="The client's name for the file, cleaned: no path, no control or "
        "bidirectional characters, at most 255 bytes of UTF-8"
    )
    content_type: str = Field(description="Sniffed from the content, not taken from the client")
    size: int = Field(description="Bytes")
    sha256: str = Field(description="SHA-256 of the content, in hex; also the download's ETag")
    created_at: datetime

    of: ClassVar[Callable[[Attachment], Fields]]


class AttachmentPage(PageOut[AttachmentOut]):
    """A page of an item's attachments, newest first."""

    model_config = examples(
        {
            "items": [EXAMPLE_ATTACHMENT],
            "total": 21,
            "total_is_exact": True,
            "page": 1,
            "page_size": 20,
            "has_next": True,
            "next_cursor": EXAMPLE_CURSOR,
        }
    )
