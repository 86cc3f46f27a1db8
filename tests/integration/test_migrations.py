"""One set of migrations for both databases: up, down, up again, and nothing left unmigrated."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TypeVar

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from adapters.sqlalchemy.migrations import AlembicMigrator
from adapters.sqlalchemy.tables import POSTGRESQL_ONLY_INDEXES, metadata
from application.errors import MigrationError, StorageUnavailable
from tests.support.rows_0004 import TOKENS_0004, USERS_0004, insert_rows, token_row, user_row

T = TypeVar("T")
APP_TABLES = {table.name for table in metadata.sorted_tables}
QUEUE_TABLES = {"procrastinate_jobs", "procrastinate_events", "procrastinate_workers"}


async def on_connection(url: str, work: Callable[[Connection], T]) -> T:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(work)
    finally:
        await engine.dispose()


def keel_tables_only(name: str | None, type_: str, parent_names: object) -> bool:
    """The job queue's tables are procrastinate's, made from its own schema script."""
    return not (type_ == "table" and (name or "").startswith("procrastinate_"))


def schema_diff(connection: Connection) -> list[object]:
    dialect = connection.dialect.name

    def included(
        item: object, name: str | None, type_: str, reflected: bool, compare_to: object
    ) -> bool:
        # An index declared for PostgreSQL alone is not made on SQLite.
        return not (
            type_ == "index" and name in POSTGRESQL_ONLY_INDEXES and dialect != "postgresql"
        )

    opts = {"compare_type": True, "include_name": keel_tables_only, "include_object": included}
    context = MigrationContext.configure(connection, opts=opts)
    return list(compare_metadata(context, metadata))


def table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_upgrade_downgrade_upgrade_matches_the_models(database_url: str) -> None:
    migrator = AlembicMigrator(database_url)
    await asyncio.to_thread(migrator.migrate_to, "head")
    assert await asyncio.to_thread(migrator.current) == migrator.head()
    assert await on_connection(database_url, table_names) >= APP_TABLES
    assert await on_connection(database_url, schema_diff) == []

    queue_tables = QUEUE_TABLES if database_url.startswith("postgresql") else set()
    assert await on_connection(database_url, table_names) >= queue_tables

    await asyncio.to_thread(migrator.migrate_to, "base")
    assert await asyncio.to_thread(migrator.current) is None
    assert not (APP_TABLES | QUEUE_TABLES) & await on_connection(database_url, table_names)

    await asyncio.to_thread(migrator.migrate_to, "head")
    assert await on_connection(database_url, schema_diff) == []


async def test_migrate_to_a_revision_goes_down_and_up(database_url: str) -> None:
    migrator = AlembicMigrator(database_url)
    await asyncio.to_thread(migrator.migrate_to, "head")
    await asyncio.to_thread(migrator.migrate_to, "0001")
    assert await asyncio.to_thread(migrator.current) == "0001"
    await asyncio.to_thread(migrator.migrate_to, "head")
    assert await asyncio.to_thread(migrator.current) == migrator.head()


async def test_an_unknown_revision_is_refused_and_changes_nothing(database_url: str) -> None:
    migrator = AlembicMigrator(database_url)
    await asyncio.to_thread(migrator.migrate_to, "head")
    with pytest.raises(MigrationError, match="unknown revision 'nope'"):
        await asyncio.to_thread(migrator.migrate_to, "nope")
    assert await asyncio.to_thread(migrator.current) == migrator.head()


async def test_an_unreachable_database_is_named_without_its_password() -> None:
    migrator = AlembicMigrator("postgresql+asyncpg://keel:s3cret@127.0.0.1:1/keel")
    with pytest.raises(StorageUnavailable) as caught:
        await asyncio.to_thread(migrator.current)
    assert "127.0.0.1:1" in caught.value.message
    assert "s3cret" not in caught.value.message


# -- 0005: emails folded to one normal form ----------------------------------------------------


async def at_0004_with(
    url: str, users: list[dict[str, object]], tokens: Sequence[dict[str, object]] = ()
) -> AlembicMigrator:
    migrator = AlembicMigrator(url)
    await asyncio.to_thread(migrator.migrate_to, "0004")

    await insert_rows(url, users, tokens)
    return migrator


async def stored_emails(url: str, table: sa.TableClause) -> dict[str, str]:
    def read(connection: Connection) -> dict[str, str]:
        rows = connection.execute(sa.select(table.c.id, table.c.email)).all()
        return {str(row_id): email for row_id, email in rows}

    return await on_connection(url, read)


async def test_0005_folds_every_stored_email_and_the_tokens_addresses(database_url: str) -> None:
    # As revision 0004 stored them: NFC and lower case, nothing more.
    fullwidth = user_row("\uff41da@example.com")
    international = user_row("grace@bücher.example")
    decomposed_then_composed = user_row("zoë@exämple.com")
    plain = user_row("alan@example.com")
    users = [fullwidth, international, decomposed_then_composed, plain]
    tokens = [
        token_row(fullwidth, "\uff41da@example.com"),
        token_row(international, "grace@bücher.example"),
        token_row(plain, "old.address@example.com"),
    ]
    migrator = await at_0004_with(database_url, users, tokens)

    await asyncio.to_thread(migrator.migrate_to, "0005")

    assert await asyncio.to_thread(migrator.current) == "0005"
    assert await stored_emails(database_url, USERS_0004) == {
        str(fullwidth["id"]): "ada@example.com",
        str(international["id"]): "grace@xn--bcher-kva.example",
        str(decomposed_then_composed["id"]): "zoë@xn--exmple-cua.com",
        str(plain["id"]): "alan@example.com",
    }
    assert sorted((await stored_emails(database_url, TOKENS_0004)).values()) == [
        "ada@example.com",
        "grace@xn--bcher-kva.example",
        "old.address@example.com",
    ]
    # Down and up again: the folded addresses stay, and folding them again changes nothing.
    await asyncio.to_thread(migrator.migrate_to, "0004")
    await asyncio.to_thread(migrator.migrate_to, "0005")
    assert (await stored_emails(database_url, USERS_0004))[str(fullwidth["id"])] == (
        "ada@example.com"
    )


async def test_0005_stops_naming_accounts_that_would_share_an_address(
    database_url: str,
) -> None:
    """Two accounts are never merged: nothing changes, not even the rows that fold freely,
    and the error names each group of ids."""
    fullwidth, plain = user_row("\uff41da@example.com"), user_row("ada@example.com")
    unicode_domain = user_row("grace@bücher.example")
    punycode_domain = user_row("grace@xn--bcher-kva.example")
    innocent = user_row("zoë@exämple.com")
    users = [fullwidth, plain, unicode_domain, punycode_domain, innocent]
    migrator = await at_0004_with(database_url, users, [token_row(innocent, "zoë@exämple.com")])
    before = await stored_emails(database_url, USERS_0004)

    with pytest.raises(MigrationError) as caught:
        await asyncio.to_thread(migrator.migrate_to, "0005")

    message = str(caught.value)
    assert "\n" not in message
    assert "changed nothing" in message
    for group in ((fullwidth, plain), (unicode_domain, punycode_domain)):
        assert ", ".join(sorted(str(user["id"]) for user in group)) in message
    assert str(innocent["id"]) not in message
    assert "@" not in message, "ids only: no addresses in the error"
    assert await asyncio.to_thread(migrator.current) == "0004"
    assert await stored_emails(database_url, USERS_0004) == before
    assert list((await stored_emails(database_url, TOKENS_0004)).values()) == ["zoë@exämple.com"]


async def test_0005_stops_naming_accounts_the_new_rules_refuse(database_url: str) -> None:
    broken = user_row("ada@xn--zz.example")  # not punycode: accepted before, refused now
    fine = user_row("Grace@Example.com")
    migrator = await at_0004_with(database_url, [broken, fine])
    with pytest.raises(MigrationError, match=f"not a valid address: {broken['id']}"):
        await asyncio.to_thread(migrator.migrate_to, "0005")
    assert await asyncio.to_thread(migrator.current) == "0004"
    assert (await stored_emails(database_url, USERS_0004))[str(fine["id"])] == "Grace@Example.com"


def title_index_and_plan(connection: Connection) -> tuple[set[str], str]:
    """The indexes of items, and the plan of the `q` search with sequential scans priced
    out (a few rows would otherwise be read straight from the table)."""
    indexes = {index["name"] or "" for index in inspect(connection).get_indexes("items")}
    if connection.dialect.name != "postgresql":
        return indexes, ""
    connection.execute(sa.text("SET LOCAL enable_seqscan = off"))
    plan = connection.execute(
        sa.text("EXPLAIN SELECT id FROM items WHERE title ILIKE :q ESCAPE '/'"), {"q": "%milk%"}
    )
    return indexes, "\n".join(row[0] for row in plan)


async def test_0013_builds_the_title_search_index_and_takes_it_away(database_url: str) -> None:
    migrator = AlembicMigrator(database_url)
    await asyncio.to_thread(migrator.migrate_to, "0013")
    indexes, plan = await on_connection(database_url, title_index_and_plan)
    postgres = database_url.startswith("postgresql")
    assert ("ix_items_title_trgm" in indexes) is postgres
    if postgres:
        assert "Bitmap Index Scan on ix_items_title_trgm" in plan, plan
    await asyncio.to_thread(migrator.migrate_to, "0010")
    indexes, _ = await on_connection(database_url, title_index_and_plan)
    assert "ix_items_title_trgm" not in indexes
    assert {"ix_items_owner_id_created_at_id", "ix_items_created_at_id"} <= indexes
    await asyncio.to_thread(migrator.migrate_to, "head")
    indexes, _ = await on_connection(database_url, title_index_and_plan)
    assert ("ix_items_title_trgm" in indexes) is postgres
