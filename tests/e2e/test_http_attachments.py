"""Attachments over HTTP, on SQLite and PostgreSQL, against the blob storage fixture."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.attachments_support import (
    PNG,
    BlobStorage,
    attachment_world,
    local_storage,
    multipart,
    s3_storage,
    upload,
)
from tests.e2e.http_support import World, assert_envelope
from tests.support.migrated import migrated
from tests.support.s3 import S3Server


@pytest.fixture(params=["local", "s3"])
def blob_storage(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> BlobStorage:
    """Every rule on both adapters: the local directory, and S3 (moto's server standing in
    for the real service)."""
    if request.param == "local":
        return local_storage(tmp_path / "blobs")
    server: S3Server = request.getfixturevalue("s3_server")
    bucket: str = request.getfixturevalue("s3_bucket")
    environment = server.environment()
    for name, value in environment.items():  # the in-process app's S3 client reads these
        monkeypatch.setenv(name, value)
    return s3_storage(server.endpoint, bucket, environment)


@pytest.fixture
async def world(migrated_url: str, blob_storage: BlobStorage) -> AsyncIterator[World]:
    async with attachment_world(migrated_url, blob_storage) as world:
        yield world


def base(item: dict[str, Any]) -> str:
    return f"/api/v1/items/{item['id']}/attachments"


async def test_upload_list_download_and_delete(world: World, blob_storage: BlobStorage) -> None:
    item = await world.create("alice", "with a picture")
    created = await upload(world, "alice", item["id"], PNG, "holiday.png")
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["filename"] == "holiday.png"
    assert body["content_type"] == "image/png"
    assert body["size"] == len(PNG)
    assert body["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert body["item_id"] == item["id"]
    assert set(body) == {
        "id",
        "item_id",
        "filename",
        "content_type",
        "size",
        "sha256",
        "created_at",
    }
    assert len(blob_storage.stored()) == 1

    listed = await world.get("alice", base(item))
    assert listed.status_code == 200
    assert [a["id"] for a in listed.json()["items"]] == [body["id"]]
    assert listed.json()["total"] == 1

    got = await world.get("alice", f"{base(item)}/{body['id']}")
    assert got.status_code == 200
    assert got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert got.headers["content-length"] == str(len(PNG))
    assert got.headers["etag"] == f'"{body["sha256"]}"'
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"] == (
        "attachment; filename=\"holiday.png\"; filename*=UTF-8''holiday.png"
    )
    assert got.headers["content-security-policy"] == "default-src 'none'; sandbox"

    deleted = await world.client.delete(
        f"{base(item)}/{body['id']}", headers=world.headers["alice"]
    )
    assert deleted.status_code == 204
    assert_envelope(await world.get("alice", f"{base(item)}/{body['id']}"), 404, "NOT_FOUND")


async def test_others_get_404_and_an_admin_may(world: World) -> None:
    item = await world.create("alice", "private")
    created = (await upload(world, "alice", item["id"], b"notes\n", "n.txt")).json()
    one = f"{base(item)}/{created['id']}"
    assert_envelope(await world.get("bob", base(item)), 404, "NOT_FOUND")
    assert_envelope(await world.get("bob", one), 404, "NOT_FOUND")
    assert_envelope(await upload(world, "bob", item["id"], b"x", "x.txt"), 404, "NOT_FOUND")
    refused = await world.client.delete(one, headers=world.headers["bob"])
    assert_envelope(refused, 404, "NOT_FOUND")
    assert (await world.get("root", one)).content == b"notes\n"
    by_admin = await upload(world, "root", item["id"], b"from the admin", "a.txt")
    assert by_admin.status_code == 201
    assert (await world.get("alice", base(item))).json()["total"] == 2
    missing = f"{base(item)}/00000000-0000-4000-8000-000000000000"
    assert_envelope(await world.get("alice", missing), 404, "NOT_FOUND")
    assert_envelope(await world.get("alice", f"{base(item)}/not-a-uuid"), 422, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    ("data", "declared"),
    [
        (b"<!DOCTYPE html><html><script>alert(document.cookie)</script>", "image/png"),
        (b"  <svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "text/plain"),
        (b"<?xml version='1.0'?><x/>", "text/plain"),
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "application/pdf"),
    ],
)
async def test_content_is_sniffed_and_a_lying_type_refused(
    world: World, blob_storage: BlobStorage, data: bytes, declared: str
) -> None:
    item = await world.create("alice", "lies")
    refused = await upload(world, "alice", item["id"], data, "x.png", content_type=declared)
    error = assert_envelope(refused, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert "image/png" in error["details"]["allowed"]
    assert blob_storage.stored() == []
    assert (await world.get("alice", base(item))).json()["total"] == 0


async def test_a_png_header_on_html_is_a_png_and_served_as_one(world: World) -> None:
    # Decided from the signature: it is served as image/png with nosniff and as a
    # download, so no browser renders the HTML after it.
    item = await world.create("alice", "polyglot")
    data = PNG[:16] + b"<html><script>alert(1)</script></html>"
    created = (await upload(world, "alice", item["id"], data, "p.html")).json()
    assert created["content_type"] == "image/png"
    got = await world.get("alice", f"{base(item)}/{created['id']}")
    assert got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"].startswith("attachment;")


@pytest.mark.parametrize(
    ("sent", "kept", "header"),
    [
        ("../../etc/passwd", "passwd", "attachment; filename=\"passwd\"; filename*=UTF-8''passwd"),
        (
            "a\u202egnp.exe",
            "agnp.exe",
            "attachment; filename=\"agnp.exe\"; filename*=UTF-8''agnp.exe",
        ),
        (
            'caf\u00e9 "quoted".txt',
            'caf\u00e9 "quoted".txt',
            'attachment; filename="caf_ _quoted_.txt"; '
            "filename*=UTF-8''caf%C3%A9%20%22quoted%22.txt",
        ),
        (
            "..\\..\\boot.ini",
            "boot.ini",
            "attachment; filename=\"boot.ini\"; filename*=UTF-8''boot.ini",
        ),
    ],
)
async def test_filenames_are_cleaned_and_encoded(
    world: World, blob_storage: BlobStorage, sent: str, kept: str, header: str
) -> None:
    item = await world.create("alice", "names")
    created = (await upload(world, "alice", item["id"], b"text", sent)).json()
    assert created["filename"] == kept
    got = await world.get("alice", f"{base(item)}/{created['id']}")
    assert got.headers["content-disposition"] == header
    # The name never reaches storage: keys are ids.
    assert all(kept not in key for key in blob_storage.stored())


async def test_nul_bytes_and_300_character_names(world: World) -> None:
    item = await world.create("alice", "names")
    nul = await upload(world, "alice", item["id"], b"text", "a\x00b.txt")
    assert nul.status_code == 201
    assert nul.json()["filename"] == "ab.txt"
    long = await upload(world, "alice", item["id"], b"text", "x" * 300 + ".txt")
    assert long.status_code == 201
    assert long.json()["filename"] == "x" * 251 + ".txt"


async def test_ranges_and_conditional_downloads(world: World) -> None:
    item = await world.create("alice", "ranges")
    created = (await upload(world, "alice", item["id"], PNG)).json()
    one = f"{base(item)}/{created['id']}"
    headers = world.headers["alice"]
    size = len(PNG)

    async def get(**extra: str) -> Any:
        return await world.client.get(one, headers={**headers, **extra})

    part = await get(Range="bytes=10-19")
    assert part.status_code == 206
    assert part.content == PNG[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{size}"
    assert part.headers["content-length"] == "10"
    suffix = await get(Range="bytes=-5")
    assert suffix.status_code == 206
    assert suffix.content == PNG[-5:]
    assert suffix.headers["content-range"] == f"bytes {size - 5}-{size - 1}/{size}"
    open_ended = await get(Range=f"bytes={size - 3}-")
    assert open_ended.content == PNG[-3:]
    clipped = await get(Range=f"bytes=0-{size + 100}")
    assert clipped.status_code == 206
    assert clipped.content == PNG
    for bad in (f"bytes={size}-", "bytes=5-1", "bytes=0-1,4-5", "items=0-1", "bytes=-0", "bytes=-"):
        refused = await get(Range=bad)
        assert_envelope(refused, 416, "HTTP_ERROR")
        assert refused.headers["content-range"] == f"bytes */{size}"

    etag = f'"{created["sha256"]}"'
    assert (await get(**{"If-None-Match": etag})).status_code == 304
    assert (await get(**{"If-None-Match": f'W/"x", {etag}'})).status_code == 304
    assert (await get(**{"If-None-Match": '"other"'})).status_code == 200
    head = await world.client.head(one, headers=headers)
    assert head.status_code == 200
    assert head.headers["content-length"] == str(size)
    assert head.content == b""


async def test_bad_multipart_bodies_get_clear_4xx(world: World, blob_storage: BlobStorage) -> None:
    item = await world.create("alice", "bodies")
    url = base(item)
    headers = world.headers["alice"]

    async def post(content: bytes, content_type: str) -> Any:
        return await world.client.post(
            url, content=content, headers={**headers, "Content-Type": content_type}
        )

    assert_envelope(await post(b'{"file": "x"}', "application/json"), 422, "VALIDATION_ERROR")
    assert_envelope(await post(b"x", "multipart/form-data"), 422, "VALIDATION_ERROR")
    body, kind = multipart(b"text", field="other")
    assert_envelope(await post(body, kind), 422, "VALIDATION_ERROR")
    boundary = "b0undary"
    two = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n'
        f'one\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="b.txt"\r\n\r\ntwo\r\n--{boundary}--\r\n'
    ).encode()
    error = assert_envelope(
        await post(two, f"multipart/form-data; boundary={boundary}"), 422, "VALIDATION_ERROR"
    )
    assert error["details"]["errors"][0]["field"] == "file"
    not_a_file = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"\r\n\r\n'
        f"one\r\n--{boundary}--\r\n"
    ).encode()
    assert_envelope(
        await post(not_a_file, f"multipart/form-data; boundary={boundary}"), 422, "VALIDATION_ERROR"
    )
    body, kind = multipart(b"cut off in the middle of the file")
    cut = await post(body[: len(body) - 20], kind)
    assert_envelope(cut, 422, "VALIDATION_ERROR")
    empty = await post(b"", f"multipart/form-data; boundary={boundary}")
    assert_envelope(empty, 422, "VALIDATION_ERROR")
    assert blob_storage.stored() == []
    assert (await world.get("alice", url)).json()["total"] == 0


async def test_a_file_over_the_limit_is_refused_early_and_nothing_kept(
    migrated_url: str, blob_storage: BlobStorage
) -> None:
    async with attachment_world(migrated_url, blob_storage, attachment_max_bytes=4096) as world:
        item = await world.create("alice", "big")
        sent = 0

        async def endless() -> AsyncIterator[bytes]:
            nonlocal sent
            body, _ = multipart(PNG)
            yield body[: body.index(PNG)]
            while sent < 50 * 1024 * 1024:
                sent += 65536
                yield bytes(65536)

        _, kind = multipart(b"")
        refused = await world.client.post(
            base(item), content=endless(), headers={**world.headers["alice"], "Content-Type": kind}
        )
        error = assert_envelope(refused, 413, "PAYLOAD_TOO_LARGE")
        assert error["details"] == {"max_bytes": 4096}
        assert sent < 1024 * 1024  # stopped early, not after reading all 50 MiB
        assert blob_storage.stored() == []
        # An announced length over the limit is refused before the body is read.
        body, kind = multipart(PNG + bytes(200_000))
        announced = await world.client.post(
            base(item), content=body, headers={**world.headers["alice"], "Content-Type": kind}
        )
        assert_envelope(announced, 413, "PAYLOAD_TOO_LARGE")


async def test_the_general_body_limit_does_not_apply_to_uploads(
    migrated_url: str, blob_storage: BlobStorage
) -> None:
    async with attachment_world(
        migrated_url, blob_storage, attachment_max_bytes=3 * 1024 * 1024
    ) as world:
        item = await world.create("alice", "big")
        big = PNG + bytes(2 * 1024 * 1024)
        accepted = await upload(world, "alice", item["id"], big)
        assert accepted.status_code == 201, accepted.text
        assert accepted.json()["size"] == len(big)


async def test_the_quota_refuses_what_does_not_fit_and_deleting_frees_it(
    migrated_url: str, blob_storage: BlobStorage
) -> None:
    quota = 3 * len(PNG)
    async with attachment_world(migrated_url, blob_storage, attachment_quota_bytes=quota) as world:
        item = await world.create("alice", "quota")
        ids = [(await upload(world, "alice", item["id"], PNG)).json()["id"] for _ in range(3)]
        refused = await upload(world, "alice", item["id"], PNG)
        error = assert_envelope(refused, 413, "QUOTA_EXCEEDED")
        assert error["details"] == {"quota_bytes": quota}
        # An admin's upload counts against the item's owner.
        assert_envelope(await upload(world, "root", item["id"], PNG), 413, "QUOTA_EXCEEDED")
        assert len(blob_storage.stored()) == 3
        await world.client.delete(f"{base(item)}/{ids[0]}", headers=world.headers["alice"])
        assert (await upload(world, "alice", item["id"], PNG)).status_code == 201
        # Bob's quota is his own.
        bobs = await world.create("bob", "his")
        assert (await upload(world, "bob", bobs["id"], PNG)).status_code == 201


async def eventually_empty(storage: BlobStorage, keep: int = 0) -> None:
    """The jobs committed with a deletion remove the bytes: run by this process's job
    runner, within moments."""
    for _ in range(200):
        if len(storage.stored()) == keep:
            return
        await asyncio.sleep(0.05)
    assert len(storage.stored()) == keep, storage.stored()


async def test_deleting_an_attachment_item_or_user_removes_the_bytes(
    world: World, blob_storage: BlobStorage
) -> None:
    first = await world.create("alice", "one")
    second = await world.create("alice", "two")
    bobs = await world.create("bob", "his")
    kept = (await upload(world, "alice", second["id"], b"kept")).json()
    single = (await upload(world, "alice", first["id"], b"single")).json()
    await upload(world, "alice", first["id"], b"with the item")
    for _ in range(3):
        await upload(world, "bob", bobs["id"], PNG)
    assert len(blob_storage.stored()) == 6

    deleted = await world.client.delete(
        f"{base(first)}/{single['id']}", headers=world.headers["alice"]
    )
    assert deleted.status_code == 204
    await eventually_empty(blob_storage, keep=5)
    gone = await world.client.delete(f"/api/v1/items/{first['id']}", headers=world.headers["alice"])
    assert gone.status_code == 204
    await eventually_empty(blob_storage, keep=4)
    bob = await world.client.delete(
        f"/api/v1/users/{world.ids['bob']}", headers=world.headers["root"]
    )
    assert bob.status_code == 204
    await eventually_empty(blob_storage, keep=1)
    got = await world.get("alice", f"{base(second)}/{kept['id']}")
    assert got.content == b"kept"


@pytest.mark.postgres
async def test_concurrent_uploads_race_for_the_last_of_the_quota(
    postgres_url: str, blob_storage: BlobStorage
) -> None:
    await migrated(postgres_url)
    quota = 3 * len(PNG)
    async with attachment_world(postgres_url, blob_storage, attachment_quota_bytes=quota) as world:
        for trial in range(6):
            item = await world.create("alice", f"race {trial}")
            answers = await asyncio.gather(
                *(upload(world, "alice", item["id"], PNG) for _ in range(8))
            )
            statuses = sorted(a.status_code for a in answers)
            assert statuses == [201] * 3 + [413] * 5, statuses
            for refused in answers:
                if refused.status_code == 413:
                    assert_envelope(refused, 413, "QUOTA_EXCEEDED")
            listed = (await world.get("alice", base(item))).json()
            assert sum(a["size"] for a in listed["items"]) == quota
            assert len(blob_storage.stored()) == 3
            for attachment in listed["items"]:
                await world.client.delete(
                    f"{base(item)}/{attachment['id']}", headers=world.headers["alice"]
                )
            await eventually_empty(blob_storage)


async def test_the_list_walks_by_cursor_bound_to_its_caller_and_item(world: World) -> None:
    item = await world.create("alice", "three files")
    other = await world.create("alice", "another")
    uploaded = []
    for n in range(3):
        answer = await upload(world, "alice", item["id"], PNG, f"p{n}.png")
        assert answer.status_code == 201, answer.text
        uploaded.append(answer.json()["id"])
    first = await world.get("alice", base(item), page_size=2)
    assert first.status_code == 200, first.text
    cursor = first.json()["next_cursor"]
    assert cursor, first.json()
    second = await world.get("alice", base(item), page_size=2, cursor=cursor)
    assert second.status_code == 200, second.text
    assert second.json()["next_cursor"] is None
    walked = [a["id"] for a in first.json()["items"] + second.json()["items"]]
    assert sorted(walked) == sorted(uploaded)
    assert len(set(walked)) == 3
    # Another item's listing, or another caller (an administrator too), refuses it.
    for who, path in (("alice", base(other)), ("root", base(item))):
        refused = await world.get(who, path, page_size=2, cursor=cursor)
        assert_envelope(refused, 422, "VALIDATION_ERROR")
    both = await world.get("alice", base(item), cursor=cursor, page=2)
    assert_envelope(both, 422, "VALIDATION_ERROR")
