"""Attachments: files kept with an item. The bytes live in blob storage under a key made
from ids only; the client's filename is cleaned and kept as metadata, its type ignored."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from domain.errors import DomainError, NotFound

MIB = 1024 * 1024


class AttachmentNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Attachment not found")


class UnsupportedMediaType(DomainError):
    """The content, as sniffed from its first bytes, is not a type the service accepts."""

    def __init__(self, allowed: tuple[str, ...]) -> None:
        super().__init__(
            f"The file's content is not one of the accepted types: {', '.join(allowed)}"
        )
        self.allowed = allowed


class AttachmentTooLarge(DomainError):
    """The file is larger than one attachment may be."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"An attachment may be at most {max_bytes} bytes")
        self.max_bytes = max_bytes


class QuotaExceeded(DomainError):
    """The file does not fit in what is left of its owner's storage quota."""

    def __init__(self, quota_bytes: int) -> None:
        super().__init__(
            f"The file does not fit in the owner's storage quota of {quota_bytes} bytes"
        )
        self.quota_bytes = quota_bytes


@dataclass(frozen=True, slots=True)
class Attachment:
    """``owner_id`` is the item's owner: the attachment counts against their quota,
    whoever uploaded it."""

    id: uuid.UUID
    item_id: uuid.UUID
    owner_id: uuid.UUID
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime
    storage_key: str


def storage_key(item_id: uuid.UUID, attachment_id: uuid.UUID) -> str:
    """Ids only: nothing a client sent ever reaches a path or an object name."""
    return f"attachments/{item_id.hex}/{attachment_id.hex}"


class UploadAbandoned(DomainError):
    """The upload took so long that the clean-up removed it as left behind by a crash."""

    def __init__(self) -> None:
        super().__init__("The upload took too long and was abandoned: send it again")
