"""The HTTP app end to end, in process, on a real migrated database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from adapters.sqlalchemy.migrations import AlembicMigrator
from entrypoints.http.app import create_app
from tests.e2e.attachments_support import BlobStorage, local_storage
from tests.e2e.http_support import World, make_settings, serving


@pytest.fixture
async def migrated_url(database_url: str) -> str:
    await asyncio.to_thread(AlembicMigrator(database_url).upgrade, "head")
    return database_url


@pytest.fixture
async def client(migrated_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(create_app(make_settings(migrated_url))) as client:
        yield client


@pytest.fixture
async def world(migrated_url: str) -> AsyncIterator[World]:
    app = create_app(make_settings(migrated_url))
    async with serving(app) as client:
        world = World(client, app)
        for name in ("alice", "bob"):
            await world.add(name)
        await world.add("root", admin=True)
        yield world


@pytest.fixture
def blob_storage(tmp_path: Path) -> BlobStorage:
    """The storage attachments go to: the local directory adapter (a fixture, so that the
    same tests can run on any other adapter)."""
    return local_storage(tmp_path / "blobs")
