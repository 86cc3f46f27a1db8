"""The PostgreSQL harness itself: one server per session, one fresh database per test."""

from __future__ import annotations

import asyncpg
import pytest

from tests.support.postgres import PostgresServer

# Databases handed to earlier tests of this module, in order.
_seen: list[str] = []


@pytest.mark.postgres
@pytest.mark.parametrize("run", [1, 2])
async def test_each_test_gets_a_fresh_database_of_its_own(
    postgres_server: PostgresServer, postgres_url: str, run: int
) -> None:
    assert postgres_url.startswith("postgresql+asyncpg://")
    name = postgres_url.rsplit("/", 1)[1]
    assert name.startswith("keel_test_")
    connection = await asyncpg.connect(postgres_url.replace("+asyncpg", "", 1))
    try:
        assert await connection.fetchval("SELECT current_database()") == name
        # Nothing left over from an earlier test: the marker table is made below.
        assert await connection.fetchval("SELECT to_regclass('public.harness_marker')") is None
        await connection.execute("CREATE TABLE harness_marker (id int)")
        leftovers = await connection.fetchval(
            "SELECT count(*) FROM pg_database WHERE datname = ANY($1::text[])", _seen
        )
    finally:
        await connection.close()
    assert name not in _seen
    assert leftovers == 0, "an earlier test's database was not dropped"
    _seen.append(name)


@pytest.mark.parametrize(
    ("admin_url", "dsn", "url"),
    [
        (
            "postgresql+asyncpg://admin:pw@db.example:5433/postgres",
            "postgresql://admin:pw@db.example:5433/keel_x",
            "postgresql+asyncpg://admin:pw@db.example:5433/keel_x",
        ),
        (
            "postgres://admin@db.example",
            "postgres://admin@db.example/keel_x",
            "postgresql+asyncpg://admin@db.example/keel_x",
        ),
        (
            "postgresql://admin@db.example:5432/postgres?sslmode=disable",
            "postgresql://admin@db.example:5432/keel_x?sslmode=disable",
            "postgresql+asyncpg://admin@db.example:5432/keel_x?sslmode=disable",
        ),
    ],
)
def test_an_existing_server_is_used_through_its_admin_url(
    monkeypatch: pytest.MonkeyPatch, admin_url: str, dsn: str, url: str
) -> None:
    monkeypatch.setenv("KEEL_TEST_POSTGRES_URL", admin_url)
    server = PostgresServer()
    server.start()  # starts nothing: the server is already there
    try:
        assert server.dsn("keel_x") == dsn
        assert server.url("keel_x") == url
    finally:
        server.stop()
