"""Attachments in the end-to-end tests: the blob storage they run on, and uploads."""

from __future__ import annotations

import os
import urllib.request
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx

from entrypoints.http.app import create_app
from tests.e2e.http_support import World, make_settings

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4


@dataclass(frozen=True)
class BlobStorage:
    """Where a test's attachments go: the settings (and, for a `keel serve`, the
    environment) that point Keel at it, and what is stored there now."""

    settings: dict[str, Any]
    env: dict[str, str]
    stored: Callable[[], list[str]]


def local_storage(root: Path) -> BlobStorage:
    url = f"file://{root}"

    def stored() -> list[str]:
        # Every file, the unfinished writes of the adapter included: nothing may be left.
        return sorted(
            str(Path(folder, name).relative_to(root))
            for folder, _, names in os.walk(root)
            for name in names
        )

    return BlobStorage({"storage_url": url}, {"STORAGE_URL": url}, stored)


def s3_storage(endpoint: str, bucket: str, environment: dict[str, str]) -> BlobStorage:
    """A bucket on the tests' S3 stand-in (moto), under a prefix: what Keel is told, and
    what the bucket holds, the uploads begun and never finished included."""
    url = f"s3://{bucket}/attachments"

    def listing(query: str, tag: str) -> list[str]:
        # The tests' own loopback server, answering S3's XML.
        address = f"{endpoint}/{bucket}?{query}"
        with urllib.request.urlopen(address, timeout=10) as answer:  # noqa: S310
            tree = ElementTree.fromstring(answer.read())  # noqa: S314
        return [node.text or "" for node in tree.iter() if node.tag.endswith(tag)]

    def stored() -> list[str]:
        objects = listing("list-type=2&prefix=attachments/", "}Key")
        unfinished = listing("uploads&prefix=attachments/", "}UploadId")
        return sorted(objects) + [f"(unfinished upload {u})" for u in unfinished]

    settings = {"storage_url": url, "s3_endpoint_url": endpoint}
    return BlobStorage(settings, {"STORAGE_URL": url, **environment}, stored)


def multipart(
    data: bytes, filename: str = "f.png", content_type: str = "image/png", field: str = "file"
) -> tuple[bytes, str]:
    """A body with one file part; the filename goes in as UTF-8, as browsers send it."""
    boundary = "keel-test-boundary-7d1f"
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    body = head + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


async def upload(
    world: World, who: str, item_id: str, data: bytes, filename: str = "f.png", **kw: Any
) -> httpx.Response:
    body, content_type = multipart(data, filename, **kw)
    return await world.client.post(
        f"/api/v1/items/{item_id}/attachments",
        content=body,
        headers={**world.headers[who], "Content-Type": content_type},
    )


@asynccontextmanager
async def attachment_world(
    database_url: str, storage: BlobStorage, **overrides: Any
) -> AsyncIterator[World]:
    from tests.e2e.http_support import serving

    app = create_app(make_settings(database_url, **storage.settings, **overrides))
    async with serving(app) as client:
        world = World(client, app)
        for name in ("alice", "bob"):
            await world.add(name)
        await world.add("root", admin=True)
        yield world
