"""One contract, two blob stores: the local directory and S3 (on moto's stand-in server).
Each rule of ``application.ports.blobs.BlobStore`` is checked against both."""

from __future__ import annotations

import asyncio
import os
import time
import tracemalloc
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.blobs.local import PARTIAL, LocalBlobStore
from adapters.blobs.s3 import PART_BYTES, S3BlobStore
from application.ports.blobs import BlobNotFound, BlobStore, BlobStoreUnavailable
from harness.ports import free_port
from tests.support.s3 import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, S3Server

PREFIX = "attachments"
CREDENTIALS = {
    "aws_access_key_id": ACCESS_KEY_ID,
    "aws_secret_access_key": SECRET_ACCESS_KEY,
    "region_name": REGION,
}


def s3_store(endpoint: str, bucket: str, **options: Any) -> S3BlobStore:
    return S3BlobStore(
        bucket, PREFIX, endpoint_url=endpoint, client_options=dict(CREDENTIALS), **options
    )


@dataclass
class Subject:
    """A store, and what only its own kind can show: the remains of unfinished writes."""

    store: BlobStore
    leftovers: Callable[[], Awaitable[int]]
    begin_leftover: Callable[[], Awaitable[None]]


def local_subject(root: Path) -> Subject:
    store = LocalBlobStore(root)

    async def leftovers() -> int:
        partial = root / PARTIAL
        return len(list(partial.iterdir())) if partial.exists() else 0

    async def begin_leftover() -> None:
        (root / PARTIAL).mkdir(parents=True, exist_ok=True)
        (root / PARTIAL / f"crashed.{uuid.uuid4().hex}").write_bytes(b"half")

    return Subject(store, leftovers, begin_leftover)


def s3_subject(server: S3Server, bucket: str) -> tuple[Subject, S3BlobStore]:
    store = s3_store(server.endpoint, bucket)

    async def leftovers() -> int:
        s3 = await store._s3()
        listed = await s3.list_multipart_uploads(Bucket=bucket)
        return len(listed.get("Uploads", []))

    async def begin_leftover() -> None:
        s3 = await store._s3()
        await s3.create_multipart_upload(Bucket=bucket, Key=f"{PREFIX}/crashed-{uuid.uuid4()}")

    return Subject(store, leftovers, begin_leftover), store


@pytest.fixture(params=["local", "s3"])
async def subject(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Subject]:
    if request.param == "local":
        yield local_subject(tmp_path / "blobs")
        return
    server: S3Server = request.getfixturevalue("s3_server")
    made, store = s3_subject(server, request.getfixturevalue("s3_bucket"))
    try:
        yield made
    finally:
        await store.close()


async def chunked(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def read_all(store: BlobStore, key: str, **span: int | None) -> bytes:
    return b"".join([chunk async for chunk in await store.read(key, **span)])


class CutOff(Exception):
    pass


async def cut_off_after(data: bytes) -> AsyncIterator[bytes]:
    async for chunk in chunked(data):
        yield chunk
    raise CutOff


@pytest.mark.parametrize("size", [0, 1, 300 * 1024, PART_BYTES + 1])
async def test_the_bytes_written_are_read_back_exactly(subject: Subject, size: int) -> None:
    data = os.urandom(size)
    assert await subject.store.write("items/a/b", chunked(data)) == size
    assert await read_all(subject.store, "items/a/b") == data


async def test_a_write_replaces_what_was_there(subject: Subject) -> None:
    await subject.store.write("k", chunked(b"old bytes"))
    await subject.store.write("k", chunked(b"new"))
    assert await read_all(subject.store, "k") == b"new"


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (0, None, slice(0, 1000)),
        (0, 1, slice(0, 1)),
        (10, 20, slice(10, 20)),
        (990, None, slice(990, 1000)),
        (995, 2000, slice(995, 1000)),
        (999, 1000, slice(999, 1000)),
        (1000, None, slice(0, 0)),
        (5000, None, slice(0, 0)),
        (5000, 6000, slice(0, 0)),
        (5, 5, slice(0, 0)),
    ],
)
async def test_ranges_are_read_as_asked(
    subject: Subject, start: int, end: int | None, expected: slice
) -> None:
    data = os.urandom(1000)
    await subject.store.write("ranged", chunked(data, 97))
    assert await read_all(subject.store, "ranged", start=start, end=end) == data[expected]


@pytest.mark.parametrize(("start", "end"), [(0, None), (10, 20), (5, 5), (100, None)])
async def test_a_missing_key_raises_before_the_first_chunk(
    subject: Subject, start: int, end: int | None
) -> None:
    with pytest.raises(BlobNotFound):
        await subject.store.read("never/written", start=start, end=end)


async def test_delete_removes_and_may_be_repeated(subject: Subject) -> None:
    await subject.store.write("gone", chunked(b"bytes"))
    await subject.store.delete("gone")
    with pytest.raises(BlobNotFound):
        await subject.store.read("gone")
    await subject.store.delete("gone")
    await subject.store.delete("never/written")


@pytest.mark.parametrize("size", [1000, 2 * PART_BYTES + 10])
async def test_a_write_cut_off_leaves_nothing_behind(subject: Subject, size: int) -> None:
    """Under one part (one PutObject on S3) and over two (a multipart upload, aborted)."""
    with pytest.raises(CutOff):
        await subject.store.write("cut", cut_off_after(os.urandom(size)))
    with pytest.raises(BlobNotFound):
        await subject.store.read("cut")
    assert await subject.leftovers() == 0


async def test_a_write_cut_off_keeps_the_previous_bytes(subject: Subject) -> None:
    await subject.store.write("kept", chunked(b"the whole of it"))
    with pytest.raises(CutOff):
        await subject.store.write("kept", cut_off_after(os.urandom(PART_BYTES + 10)))
    assert await read_all(subject.store, "kept") == b"the whole of it"
    assert await subject.leftovers() == 0


async def test_remove_leftovers_removes_only_what_is_older_than_asked(subject: Subject) -> None:
    await subject.store.write("finished", chunked(b"whole"))
    await subject.begin_leftover()
    await subject.begin_leftover()
    assert await subject.store.remove_leftovers(older_than=timedelta(days=365 * 100)) == 0
    assert await subject.leftovers() == 2
    assert await subject.store.remove_leftovers(older_than=timedelta(0)) == 2
    assert await subject.leftovers() == 0
    assert await read_all(subject.store, "finished") == b"whole"


async def test_local_leftovers_are_told_apart_by_age(tmp_path: Path) -> None:
    """(moto gives every multipart upload one fixed initiation time, so on S3 the age is
    checked only against the cutoff, above.)"""
    subject = local_subject(tmp_path)
    await subject.begin_leftover()
    an_hour_ago = time.time() - 3600
    for leftover in (tmp_path / PARTIAL).iterdir():
        os.utime(leftover, (an_hour_ago, an_hour_ago))
    await subject.begin_leftover()
    assert await subject.store.remove_leftovers(older_than=timedelta(minutes=30)) == 1
    assert await subject.leftovers() == 1


async def test_s3_leftovers_outside_the_prefix_are_not_touched(
    s3_server: S3Server, s3_bucket: str
) -> None:
    store = s3_store(s3_server.endpoint, s3_bucket)
    try:
        s3 = await store._s3()
        await s3.create_multipart_upload(Bucket=s3_bucket, Key="elsewhere/crashed")
        await s3.create_multipart_upload(Bucket=s3_bucket, Key=f"{PREFIX}x/crashed")
        await s3.create_multipart_upload(Bucket=s3_bucket, Key=f"{PREFIX}/crashed")
        assert await store.remove_leftovers(older_than=timedelta(0)) == 1
        listed = await s3.list_multipart_uploads(Bucket=s3_bucket)
        assert sorted(u["Key"] for u in listed["Uploads"]) == [
            "attachmentsx/crashed",
            "elsewhere/crashed",
        ]
    finally:
        await store.close()


async def test_check_passes_on_a_writable_store(subject: Subject) -> None:
    await subject.store.check()
    await subject.store.check()


async def test_concurrent_writes_to_different_keys_each_land_whole(subject: Subject) -> None:
    contents = {f"many/{n}": os.urandom(50_000 + n) for n in range(12)}
    sizes = await asyncio.gather(
        *(subject.store.write(key, chunked(data, 4096)) for key, data in contents.items())
    )
    assert sizes == [len(data) for data in contents.values()]
    for key, data in contents.items():
        assert await read_all(subject.store, key) == data


@pytest.mark.serial  # tracemalloc sees every thread of the process: measured alone
async def test_a_large_write_holds_at_most_a_part_or_so_in_memory(subject: Subject) -> None:
    """64 MiB in 64 KiB chunks (one chunk object, yielded again and again): the store may
    hold a few parts (S3: the part being filled, the one being sent, and what the client
    keeps of it while the server is slow to read, up to three on a loaded machine) or a
    chunk (local), never the whole."""
    chunk = os.urandom(64 * 1024)
    total = 64 * 1024 * 1024

    async def chunks() -> AsyncIterable[bytes]:
        for _ in range(total // len(chunk)):
            yield chunk

    await subject.store.check()  # the client and its connection made before measuring
    tracemalloc.start()
    try:
        assert await subject.store.write("large", chunks()) == total
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * PART_BYTES, f"peak {peak / 2**20:.1f} MiB for a 64 MiB write"
    assert sum([len(c) async for c in await subject.store.read("large")]) == total


async def test_check_names_an_unreachable_endpoint(s3_bucket: str) -> None:
    started = time.monotonic()
    store = s3_store(f"http://127.0.0.1:{free_port()}", s3_bucket, check_timeout=3.0)
    try:
        with pytest.raises(BlobStoreUnavailable) as caught:
            await store.check()
    finally:
        await store.close()
    assert "unreachable" in caught.value.reason or "timed out" in caught.value.reason
    assert SECRET_ACCESS_KEY not in caught.value.reason
    assert time.monotonic() - started < 10


async def test_check_names_a_missing_bucket(s3_server: S3Server) -> None:
    store = s3_store(s3_server.endpoint, "keel-no-such-bucket")
    try:
        with pytest.raises(BlobStoreUnavailable) as caught:
            await store.check()
    finally:
        await store.close()
    assert caught.value.reason == "S3 bucket does not exist"


async def test_check_names_a_directory_that_cannot_be_written(tmp_path: Path) -> None:
    """Under a regular file no directory can be made, whoever runs the tests (root too)."""
    (tmp_path / "a-file").write_bytes(b"")
    store = LocalBlobStore(tmp_path / "a-file" / "blobs")
    with pytest.raises(BlobStoreUnavailable) as caught:
        await store.check()
    assert "not writable" in caught.value.reason
