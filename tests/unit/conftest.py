"""Unit tests run the real use cases over the memory adapters, wired by the real container."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dependency_injector import providers

from adapters.argon2.hasher import Argon2PasswordHasher
from adapters.blobs.local import LocalBlobStore
from adapters.memory.attachments import InMemoryAttachmentReader
from adapters.memory.credentials import InMemoryCredentialReader
from adapters.memory.readers import InMemoryEventRecorder, InMemoryItemReader, InMemoryUserReader
from adapters.memory.security_events import (
    InMemorySecurityEventLog,
    InMemorySecurityEventReader,
)
from adapters.memory.store import InMemoryStore
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from entrypoints.container import Container, build_container
from entrypoints.settings import Settings
from tests.support.clock import FixedClock


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture(scope="session")
def unit_settings() -> Settings:
    return Settings(
        _env_file=None,
        environment="test",
        database_url="sqlite+aiosqlite:///:memory:",
        jwt_secret="unit-test-secret-" + "x" * 32,
    )


@pytest.fixture
def settings(unit_settings: Settings) -> Settings:
    """A copy each test may change: validating the settings again costs more than the
    test that uses them."""
    return unit_settings.model_copy(deep=True)


@pytest.fixture
def container(
    settings: Settings, store: InMemoryStore, clock: FixedClock, tmp_path: Path
) -> Iterator[Container]:
    container = build_container(settings)
    container.unit_of_work.override(providers.Factory(InMemoryUnitOfWork, store, clock=clock))
    container.user_reader.override(providers.Object(InMemoryUserReader(store)))
    container.item_reader.override(providers.Object(InMemoryItemReader(store)))
    container.attachment_reader.override(providers.Object(InMemoryAttachmentReader(store)))
    container.blob_store.override(providers.Object(LocalBlobStore(tmp_path / "blobs")))
    container.credential_reader.override(providers.Object(InMemoryCredentialReader(store)))
    container.event_recorder.override(providers.Object(InMemoryEventRecorder(store, clock=clock)))
    events = store.security_events
    container.security_event_log.override(providers.Object(InMemorySecurityEventLog(events)))
    container.security_event_reader.override(providers.Object(InMemorySecurityEventReader(events)))
    container.password_hasher.override(providers.Singleton(Argon2PasswordHasher.for_tests))
    container.clock.override(providers.Object(clock))
    yield container
    container.password_hasher().close()
