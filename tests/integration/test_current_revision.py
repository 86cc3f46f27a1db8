"""`keel migrate --status`'s read of the current revision, on SQLite (the standard
library's driver) and PostgreSQL (asyncpg alone), and its failures named without a password."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.engine import make_url

from adapters.sqlalchemy.current_revision import (
    plain_asyncpg_url,
    read_current_revision,
    without_password,
)
from adapters.sqlalchemy.migrations import AlembicMigrator
from application.errors import StorageUnavailable
from tests.support.postgres import free_port


async def test_base_then_each_revision_migrated_to(database_url: str) -> None:
    assert await asyncio.to_thread(read_current_revision, database_url) is None
    migrator = AlembicMigrator(database_url)
    await asyncio.to_thread(migrator.migrate_to, "0003")
    assert await asyncio.to_thread(read_current_revision, database_url) == "0003"


@pytest.mark.postgres
async def test_a_refused_or_missing_postgresql_database_is_named_without_its_password(
    postgres_url: str,
) -> None:
    url = make_url(postgres_url).set(password="hunter2-secret")
    for broken, reason in (
        (url.set(port=free_port()), "connect"),
        (url.set(database="no_such_database"), "does not exist"),
    ):
        text = broken.render_as_string(hide_password=False)
        with pytest.raises(StorageUnavailable) as caught:
            await asyncio.to_thread(read_current_revision, text)
        assert "hunter2-secret" not in caught.value.message
        assert ":***@" in caught.value.message
        assert reason in caught.value.message.lower()


def test_only_a_plain_asyncpg_url_skips_sqlalchemy() -> None:
    assert plain_asyncpg_url("postgresql+asyncpg://u:p@h:5432/db")
    assert not plain_asyncpg_url("postgresql+asyncpg://u:p@h/db?ssl=require")
    assert not plain_asyncpg_url("postgresql+psycopg://u:p@h/db")
    assert not plain_asyncpg_url("postgresql+asyncpg://u:p@h:port/db")
    assert not plain_asyncpg_url("sqlite+aiosqlite:///k.db")


def test_the_password_is_hidden_and_nothing_else_changes() -> None:
    assert without_password("postgresql+asyncpg://u:s3cret@h:5/db") == (
        "postgresql+asyncpg://u:***@h:5/db"
    )
    assert without_password("postgresql+asyncpg://u@h/db") == "postgresql+asyncpg://u@h/db"
