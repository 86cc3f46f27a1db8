"""Blobs as objects in an S3 bucket (AWS or any S3-compatible server), under a key prefix.

A write goes up as one PutObject when it fits in a part and as a multipart upload when not:
S3 shows a multipart object only once the upload completes, so a reader sees it whole or not
at all, and an upload that fails is aborted. One client serves the process: made on first
use (aiobotocore costs most of a second to import, which a process that never touches
storage should not pay) and closed with the container."""

from __future__ import annotations

import asyncio
import contextlib
import io
import secrets
from collections.abc import AsyncIterable, AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from adapters.blobs.s3_errors import describe, error_code, is_missing
from application.ports.blobs import BlobNotFound, check_key

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

# S3 wants every part but the last to be at least 5 MiB; a write holds one part in memory.
PART_BYTES = 8 * 1024 * 1024
MIN_PART_BYTES = 5 * 1024 * 1024
READ_CHUNK = 256 * 1024
CHECK_TIMEOUT_SECONDS = 5.0


class S3BlobStore:
    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        part_bytes: int = PART_BYTES,
        check_timeout: float = CHECK_TIMEOUT_SECONDS,
        client_options: dict[str, Any] | None = None,
    ) -> None:
        if part_bytes < MIN_PART_BYTES:
            raise ValueError(f"S3 parts are at least {MIN_PART_BYTES} bytes")
        self._bucket = bucket
        self._prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self._endpoint_url = endpoint_url
        self._part_bytes = part_bytes
        self._check_timeout = check_timeout
        # Explicit credentials or region for tests; otherwise the client's own chain.
        self._client_options = client_options or {}
        self._client: S3Client | None = None
        self._exit = contextlib.AsyncExitStack()
        self._opening = asyncio.Lock()

    def _name(self, key: str) -> str:
        return self._prefix + check_key(key)

    async def _s3(self) -> S3Client:
        if self._client is None:
            async with self._opening:
                if self._client is None:
                    self._client = await self._open()
        return self._client

    async def _open(self) -> S3Client:
        from aiobotocore.config import AioConfig
        from aiobotocore.session import get_session

        config = AioConfig(
            connect_timeout=5,
            read_timeout=30,
            retries={"max_attempts": 3, "mode": "standard"},
            max_pool_connections=32,
        )
        client = get_session().create_client(
            "s3", endpoint_url=self._endpoint_url, config=config, **self._client_options
        )
        return await self._exit.enter_async_context(client)

    async def close(self) -> None:
        self._client = None
        await self._exit.aclose()

    async def write(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        name = self._name(key)
        s3 = await self._s3()
        upload: _Upload | None = None
        # A file-like part is sent as it is read; bytes would be copied on the way out.
        part = io.BytesIO()
        size = 0
        try:
            async for chunk in chunks:
                part.write(chunk)
                size += len(chunk)
                if part.tell() >= self._part_bytes:
                    upload = upload or await _Upload.begin(s3, self._bucket, name)
                    await upload.send(part)
                    part = io.BytesIO()
            pending = part.tell()
            part.seek(0)
            if upload is None:
                await s3.put_object(Bucket=self._bucket, Key=name, Body=part)
                return size
            if pending:
                await upload.send(part)
            await upload.complete()
        except BaseException:
            if upload is not None:
                await asyncio.shield(upload.abort())
            raise
        return size

    async def read(
        self, key: str, *, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        name = self._name(key)
        s3 = await self._s3()
        if end is not None and end <= start:
            await self._exists(s3, name)
            return _nothing()
        whole = start == 0 and end is None
        span = f"bytes={start}-{'' if end is None else end - 1}"
        try:
            if whole:
                response = await s3.get_object(Bucket=self._bucket, Key=name)
            else:
                response = await s3.get_object(Bucket=self._bucket, Key=name, Range=span)
        except Exception as error:
            if is_missing(error):
                raise BlobNotFound(key) from error
            if error_code(error) == "InvalidRange":  # the object is there, shorter than start
                return _nothing()
            raise
        return _stream(response["Body"])

    async def _exists(self, s3: S3Client, name: str) -> None:
        try:
            await s3.head_object(Bucket=self._bucket, Key=name)
        except Exception as error:
            if is_missing(error):
                raise BlobNotFound(name.removeprefix(self._prefix)) from error
            raise

    async def delete(self, key: str) -> None:
        s3 = await self._s3()
        await s3.delete_object(Bucket=self._bucket, Key=self._name(key))

    async def remove_leftovers(self, *, older_than: timedelta) -> int:
        """Abort the multipart uploads under the prefix begun before the cutoff: a crashed
        write's parts, which S3 keeps (and bills) until the upload is aborted."""
        s3 = await self._s3()
        cutoff = datetime.now(UTC) - older_than
        removed = 0
        pages = s3.get_paginator("list_multipart_uploads").paginate(
            Bucket=self._bucket, Prefix=self._prefix
        )
        async for page in pages:
            for upload in page.get("Uploads", []):
                if upload["Initiated"] >= cutoff:
                    continue
                with contextlib.suppress(Exception):
                    await s3.abort_multipart_upload(
                        Bucket=self._bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                    removed += 1
        return removed

    async def check(self) -> None:
        """Write and delete a small probe object, within a few seconds."""
        probe = f"{self._prefix}.probe-{secrets.token_hex(8)}"
        try:
            async with asyncio.timeout(self._check_timeout):
                s3 = await self._s3()
                await s3.put_object(Bucket=self._bucket, Key=probe, Body=b"")
                await s3.delete_object(Bucket=self._bucket, Key=probe)
        except Exception as error:
            raise describe(error) from error


class _Upload:
    """One multipart upload: its parts as they are sent, completed or aborted once."""

    def __init__(self, s3: S3Client, bucket: str, name: str, upload_id: str) -> None:
        self._s3, self._bucket, self._name, self._id = s3, bucket, name, upload_id
        self._parts: list[dict[str, Any]] = []

    @classmethod
    async def begin(cls, s3: S3Client, bucket: str, name: str) -> _Upload:
        started = await s3.create_multipart_upload(Bucket=bucket, Key=name)
        return cls(s3, bucket, name, started["UploadId"])

    async def send(self, part: io.BytesIO) -> None:
        number = len(self._parts) + 1
        part.seek(0)
        sent = await self._s3.upload_part(
            Bucket=self._bucket,
            Key=self._name,
            UploadId=self._id,
            PartNumber=number,
            Body=part,
        )
        self._parts.append({"PartNumber": number, "ETag": sent["ETag"]})

    async def complete(self) -> None:
        await self._s3.complete_multipart_upload(
            Bucket=self._bucket,
            Key=self._name,
            UploadId=self._id,
            MultipartUpload={"Parts": self._parts},  # type: ignore[typeddict-item]
        )

    async def abort(self) -> None:
        with contextlib.suppress(Exception):
            await self._s3.abort_multipart_upload(
                Bucket=self._bucket, Key=self._name, UploadId=self._id
            )


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""  # pragma: no cover (makes this an async generator)


async def _stream(body: Any) -> AsyncIterator[bytes]:
    async with body:
        async for chunk in body.iter_chunks(READ_CHUNK):
            yield chunk
