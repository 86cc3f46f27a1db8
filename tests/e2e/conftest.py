"""The HTTP app end to end, in process, on a real migrated database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from dependency_injector import providers

from adapters.argon2.hasher import Argon2PasswordHasher
from entrypoints.container import Container, build_container
from entrypoints.http import app as app_module
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.e2e.attachments_support import BlobStorage, local_storage
from tests.e2e.http_support import World, make_settings, serving
from tests.support.hashing import CHEAP


@pytest.fixture(autouse=True)
def cheap_hashing_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Apps built in this process hash with argon2 at a thousandth of its cost, as the unit
    tests do: the same code path, without every registration and login of every test costing
    tens of milliseconds. The ``keel serve`` processes the tests start hash with the real
    parameters, and tests that need a hasher of their own still override this one. The
    settings' thread and queue sizes hold as they are."""

    def build(settings: Settings) -> Container:
        container = build_container(settings)
        cheap = providers.Singleton(
            Argon2PasswordHasher,
            **CHEAP,
            max_threads=settings.password_hash_threads,
            max_queue=settings.password_hash_queue_size,
        )
        container.password_hasher.override(cheap)
        return container

    monkeypatch.setattr(app_module, "build_container", build)


@pytest.fixture
def migrated_url(migrated_database: str) -> str:
    return migrated_database


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
