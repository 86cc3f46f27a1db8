"""The health probes name the cause: behind, unknown revision, refused; Redis too."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from adapters.ratelimit.redis import RedisRateLimitStore
from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.health import SqlAlchemyHealthProbe
from adapters.sqlalchemy.migrations import AlembicMigrator
from adapters.sqlalchemy.revisions import read_chain
from application.errors import StorageUnavailable
from tests.support.postgres import free_port

CHAIN = read_chain()
HEAD, COUNT = CHAIN.head, len(CHAIN.revisions)


async def cause_of(database_url: str) -> str | None:
    engine = create_engine(database_url)
    try:
        await SqlAlchemyHealthProbe(engine).check_schema()
    except StorageUnavailable as exc:
        return exc.message
    finally:
        await engine.dispose()
    return None


async def test_at_head_behind_and_unknown(database_url: str) -> None:
    migrator = AlembicMigrator(database_url)
    assert await cause_of(database_url) == f"behind migration {HEAD} (at base, 0 of {COUNT})"
    await asyncio.to_thread(migrator.migrate_to, "0003")
    assert await cause_of(database_url) == f"behind migration {HEAD} (at 0003, 3 of {COUNT})"
    await asyncio.to_thread(migrator.migrate_to, "head")
    assert await cause_of(database_url) is None
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
    finally:
        await engine.dispose()
    assert await cause_of(database_url) == "at revision f00d, which this code does not know"


async def test_the_plain_check_passes_on_an_empty_database(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await SqlAlchemyHealthProbe(engine).check()
    finally:
        await engine.dispose()


@pytest.mark.usefixtures("redis_server")
async def test_redis_answers_or_is_named_refused(redis_url: str) -> None:
    store = RedisRateLimitStore(redis_url)
    try:
        await store.check()
    finally:
        await store.close()
    gone = RedisRateLimitStore(f"redis://127.0.0.1:{free_port()}/0")
    try:
        with pytest.raises(StorageUnavailable) as raised:
            await gone.check()
        assert raised.value.message == "connection refused"
    finally:
        await gone.close()


async def test_a_sqlite_file_that_cannot_be_opened(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'no-such-directory' / 'keel.db'}"
    assert await cause_of(url) == "cannot open the database file"
