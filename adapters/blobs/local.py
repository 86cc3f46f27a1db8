"""Blobs as files under one directory: written to a temporary file beside the others and
renamed into place, so a reader sees a whole file or none."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import time
from collections.abc import AsyncIterable, AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from application.ports.blobs import BlobNotFound, BlobStoreUnavailable, check_key

READ_CHUNK = 256 * 1024
# Unfinished writes live here, on the same file system as their final place, so the
# rename that finishes them is atomic.
PARTIAL = ".partial"


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self._root = root
        self._partial = root / PARTIAL

    def _path(self, key: str) -> Path:
        return self._root / check_key(key)

    async def write(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        final = self._path(key)
        await asyncio.to_thread(self._partial.mkdir, parents=True, exist_ok=True)
        temporary = self._partial / f"{key.replace('/', '_')}.{secrets.token_hex(8)}"
        handle = await asyncio.to_thread(temporary.open, "xb")
        size = 0
        try:
            try:
                async for chunk in chunks:
                    await asyncio.to_thread(handle.write, chunk)
                    size += len(chunk)
                await asyncio.to_thread(_flush, handle)
            finally:
                await asyncio.to_thread(handle.close)
            await asyncio.to_thread(_place, temporary, final)
        except BaseException:
            with contextlib.suppress(OSError):
                await asyncio.shield(asyncio.to_thread(temporary.unlink, missing_ok=True))
            raise
        return size

    async def read(
        self, key: str, *, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        path = self._path(key)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except (FileNotFoundError, NotADirectoryError) as error:
            raise BlobNotFound(key) from error
        return _stream(handle, start, end)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    async def remove_leftovers(self, *, older_than: timedelta) -> int:
        return await asyncio.to_thread(
            _remove_older, self._partial, time.time() - older_than.total_seconds()
        )

    async def check(self) -> None:
        try:
            await asyncio.to_thread(_probe, self._partial)
        except OSError as error:
            raise BlobStoreUnavailable(
                f"storage directory not writable ({error.strerror or error})"
            ) from error


def _flush(handle: BinaryIO) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def _place(temporary: Path, final: Path) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(temporary, final)


async def _stream(handle: BinaryIO, start: int, end: int | None) -> AsyncIterator[bytes]:
    try:
        await asyncio.to_thread(handle.seek, start)
        left = None if end is None else max(0, end - start)
        while left is None or left > 0:
            size = READ_CHUNK if left is None else min(READ_CHUNK, left)
            chunk: bytes = await asyncio.to_thread(handle.read, size)
            if not chunk:
                return
            if left is not None:
                left -= len(chunk)
            yield chunk
    finally:
        await asyncio.to_thread(handle.close)


def _remove_older(directory: Path, cutoff: float) -> int:
    removed = 0
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return 0
    for entry in entries:
        with contextlib.suppress(FileNotFoundError):
            if (
                entry.is_file(follow_symlinks=False)
                and entry.stat(follow_symlinks=False).st_mtime < cutoff
            ):
                os.unlink(entry.path)
                removed += 1
    return removed


def _probe(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    probe = directory / f"probe.{secrets.token_hex(8)}"
    probe.write_bytes(b"")
    probe.unlink()
