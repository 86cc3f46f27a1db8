"""Blob storage: the bytes of attachments, kept apart from the database, under keys the
application makes from ids (never from anything a client sent)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator
from datetime import timedelta
from typing import Protocol

# What a key may be: ids and slashes. An adapter refuses anything else, so no key can
# climb out of its root or its bucket prefix, whatever a caller's bug passes in.
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*")


class BlobNotFound(Exception):
    """Nothing is stored under the key."""


class BlobStoreUnavailable(Exception):
    """The store cannot be reached or written (an S3 endpoint down, a read-only disk)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_key(key: str) -> str:
    if len(key) > 512 or not KEY_PATTERN.fullmatch(key):
        raise ValueError(f"not a blob key: {key[:80]!r}")
    return key


class BlobStore(Protocol):
    async def write(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Store what ``chunks`` yields under ``key``, whole or not at all: no reader ever
        sees part of it. When iterating ``chunks`` raises (an upload refused or cut off
        half-way), that exception propagates and nothing is left under ``key``; what a
        crash leaves behind is for ``remove_leftovers``. Returns the number of bytes."""
        ...

    async def read(
        self, key: str, *, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        """Open bytes ``start`` to ``end`` (exclusive; ``None``: to the last) of ``key`` to be
        streamed. Raises ``BlobNotFound`` here, before the first chunk, never mid-stream."""
        ...

    async def delete(self, key: str) -> None:
        """Remove ``key``; removing what is not there is no error, so a retry is safe."""
        ...

    async def remove_leftovers(self, *, older_than: timedelta) -> int:
        """Remove the remains of writes begun longer ago than ``older_than`` that never
        finished (a crash mid-write); returns how many were removed."""
        ...

    async def check(self) -> None:
        """Raise ``BlobStoreUnavailable`` naming the cause when the store cannot be written."""
        ...
