"""Migrated databases, fast: the migrations run once per test process into a template, and
each test gets a copy of it (a file copy for SQLite, ``CREATE DATABASE … TEMPLATE`` for
PostgreSQL). A copy holds the same schema and rows the migrations make, in a fraction of
the time; the tests of the migrations themselves still run them step by step."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import threading
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.engine import URL, make_url

from adapters.sqlalchemy.migrations import AlembicMigrator

T = TypeVar("T")


def migrate_to_head(url: str) -> None:
    """The migrator runs an event loop of its own: keep it off the caller's thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(AlembicMigrator(url).upgrade, "head").result()


class MigratedCopies:
    """The templates of one test process, each made the first time it is needed: one SQLite
    file, and one database on each PostgreSQL server."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._lock = threading.Lock()
        self._sqlite: Path | None = None
        self._postgres: dict[str, tuple[URL, str]] = {}  # server → (its admin URL, template)

    def copy(self, url: str) -> None:
        """Make the database ``url`` names a migrated one: a copy of the template when it is
        empty (or absent), else the migrations run on what is there (at head, nothing)."""
        if url.startswith("sqlite"):
            path = Path(str(make_url(url).database))
            if path.exists() and path.stat().st_size > 0:
                migrate_to_head(url)
            else:
                self._copy_sqlite(path)
        elif _holds_tables(make_url(url)):
            migrate_to_head(url)
        else:
            self._copy_postgres(url)

    def close(self) -> None:
        """The SQLite template goes, and the PostgreSQL templates on servers still running
        (a shared one): a server the tests started and stopped took its template with it."""
        for admin, template in self._postgres.values():
            with contextlib.suppress(OSError, asyncpg.PostgresError):
                _admin(admin, f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
        self._postgres.clear()
        shutil.rmtree(self._directory, ignore_errors=True)
        self._sqlite = None

    def _copy_sqlite(self, target: Path) -> None:
        with self._lock:
            if self._sqlite is None:
                self._directory.mkdir(parents=True, exist_ok=True)
                path = self._directory / "template.db"
                migrate_to_head(f"sqlite+aiosqlite:///{path}")
                self._sqlite = path
        shutil.copyfile(self._sqlite, target)
        for suffix in ("-wal", "-shm"):
            extra = self._sqlite.with_name(self._sqlite.name + suffix)
            if extra.exists():
                shutil.copyfile(extra, target.with_name(target.name + suffix))

    def _copy_postgres(self, url: str) -> None:
        parsed = make_url(url)
        admin = parsed.set(drivername="postgresql", database="postgres")
        server = f"{parsed.host}:{parsed.port}"
        with self._lock:
            if server not in self._postgres:
                template = f"keel_template_{uuid.uuid4().hex[:12]}"
                _admin(admin, f'CREATE DATABASE "{template}"')
                migrate_to_head(parsed.set(database=template).render_as_string(False))
                self._postgres[server] = (admin, template)
            template = self._postgres[server][1]
        _admin(
            admin,
            f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)',
            f'CREATE DATABASE "{parsed.database}" TEMPLATE "{template}"',
        )


def _admin(url: URL, *statements: str) -> None:
    async def run() -> None:
        connection = await asyncpg.connect(url.render_as_string(False), timeout=10)
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    _outside_any_loop(run())


def _holds_tables(url: URL) -> bool:
    async def run() -> bool:
        plain = url.set(drivername="postgresql")
        connection = await asyncpg.connect(plain.render_as_string(False), timeout=10)
        try:
            return bool(
                await connection.fetchval(
                    "SELECT EXISTS (SELECT 1 FROM pg_tables "
                    "WHERE schemaname NOT IN ('pg_catalog', 'information_schema'))"
                )
            )
        finally:
            await connection.close()

    return _outside_any_loop(run())


def _outside_any_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """Callers may be on a thread whose event loop runs (fixtures are): use one of its own."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


_copies = MigratedCopies(Path(tempfile.gettempdir()) / f"keel-migrated-{uuid.uuid4().hex[:12]}")


def copies() -> MigratedCopies:
    """This test process's templates."""
    return _copies


async def migrated(url: str) -> None:
    """``url``'s empty database migrated to head, as a copy of the template."""
    await asyncio.to_thread(_copies.copy, url)
