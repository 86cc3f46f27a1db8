"""An upload's bytes on their way to storage: counted, hashed and typed as they pass,
refused as soon as they break a rule, never held in memory beyond the sniffing window."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterable, AsyncIterator, Collection

from domain.attachment import AttachmentTooLarge, QuotaExceeded, UnsupportedMediaType
from domain.errors import DomainError
from domain.sniffing import SNIFF_BYTES, TEXT, TextChecker, sniff


class Intake:
    """``limit``: the bytes the upload may have (the smaller of the largest attachment and
    what is left of the quota); ``too_large`` the error once it has more."""

    def __init__(
        self,
        chunks: AsyncIterable[bytes],
        *,
        limit: int,
        too_large: DomainError,
        types: Collection[str],
    ) -> None:
        self._chunks = aiter(chunks)
        self._limit = limit
        self._too_large = too_large
        self._types = tuple(types)
        self._hash = hashlib.sha256()
        self._text: TextChecker | None = None
        self._head = b""
        self._exhausted = False
        self.size = 0
        self.content_type = ""

    @classmethod
    def for_upload(
        cls,
        chunks: AsyncIterable[bytes],
        *,
        max_bytes: int,
        quota_bytes: int,
        used_bytes: int,
        types: Collection[str],
    ) -> Intake:
        room = max(quota_bytes - used_bytes, 0)
        if room < max_bytes:
            return cls(chunks, limit=room, too_large=QuotaExceeded(quota_bytes), types=types)
        return cls(chunks, limit=max_bytes, too_large=AttachmentTooLarge(max_bytes), types=types)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    async def sniff(self) -> str:
        """Read up to the sniffing window and decide the type; raises before anything is
        stored when it is not an accepted one."""
        parts: list[bytes] = []
        read = 0
        while read < SNIFF_BYTES:
            chunk = await anext(self._chunks, None)
            if chunk is None:
                self._exhausted = True
                break
            parts.append(chunk)
            read += len(chunk)
            self._count(len(chunk))
        self._head = b"".join(parts)
        kind = sniff(self._head[:SNIFF_BYTES], complete=self._exhausted and read <= SNIFF_BYTES)
        if kind is None or kind not in self._types:
            raise UnsupportedMediaType(self._types)
        if kind == TEXT:
            self._text = TextChecker()
        self.content_type = kind
        return kind

    async def rest(self) -> AsyncIterator[bytes]:
        """Every byte, the sniffed head first; call ``sniff`` before."""
        if self._head:
            self._check(self._head, final=self._exhausted)
            yield self._head
            self._head = b""
        if self._exhausted:
            return
        async for chunk in self._chunks:
            self._count(len(chunk))
            self._check(chunk, final=False)
            yield chunk
        self._check(b"", final=True)

    def _count(self, size: int) -> None:
        self.size += size
        if self.size > self._limit:
            raise self._too_large

    def _check(self, chunk: bytes, *, final: bool) -> None:
        self._hash.update(chunk)
        if self._text is not None and not self._text.feed(chunk, final=final):
            raise UnsupportedMediaType(self._types)
