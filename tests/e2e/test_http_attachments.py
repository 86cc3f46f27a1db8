"""Attachments over HTTP, on SQLite and PostgreSQL, against the blob storage fixture."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.e2e.attachments_support import PNG, BlobStorage, attachment_world, upload
from tests.e2e.http_support import World, assert_envelope


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
