"""A database that is gone or unmigrated is StorageUnavailable, never a driver exception."""

from __future__ import annotations

import time

import pytest

from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.errors import SCHEMA_MISSING
from adapters.sqlalchemy.health import SqlAlchemyHealthProbe
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.errors import StorageUnavailable
from domain.email import Email

UNREACHABLE = "postgresql+asyncpg://keel:secret@127.0.0.1:1/keel"


async def test_unit_of_work_on_an_unreachable_database() -> None:
    engine = create_engine(UNREACHABLE, connect_timeout=1)
    try:
        with pytest.raises(StorageUnavailable):
            async with SqlAlchemyUnitOfWork(engine) as uow:
                await uow.users.get_by_email(Email("a@example.com"))
    finally:
        await engine.dispose()


async def test_health_probe_fails_fast_on_an_unreachable_database() -> None:
    engine = create_engine(UNREACHABLE, connect_timeout=1)
    started = time.monotonic()
    try:
        with pytest.raises(StorageUnavailable):
            await SqlAlchemyHealthProbe(engine).check()
    finally:
        await engine.dispose()
    assert time.monotonic() - started < 5


async def test_health_probe_passes_on_a_live_database(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await SqlAlchemyHealthProbe(engine).check()
    finally:
        await engine.dispose()


async def test_an_unmigrated_database_says_to_run_migrate(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with pytest.raises(StorageUnavailable) as caught:
            async with SqlAlchemyUnitOfWork(engine) as uow:
                await uow.users.get_by_email(Email("a@example.com"))
        assert caught.value.message == SCHEMA_MISSING
    finally:
        await engine.dispose()
