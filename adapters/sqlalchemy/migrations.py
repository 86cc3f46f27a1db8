"""Schema migrations with Alembic, driven from Keel's own command line."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from adapters.sqlalchemy.errors import translate_errors
from adapters.sqlalchemy.schema_status import unusable_database
from application.errors import MigrationError, StorageUnavailable

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
T = TypeVar("T")


class AlembicMigrator:
    """Synchronous on purpose: it is called from the command line. Async callers use
    ``asyncio.to_thread``."""

    def __init__(self, database_url: str, connect_timeout: float = 5.0) -> None:
        self._url = database_url
        self._connect_timeout = connect_timeout
        self._config = Config()
        self._config.set_main_option("script_location", str(MIGRATIONS_DIR))
        self._script = ScriptDirectory.from_config(self._config)

    def head(self) -> str | None:
        return self._script.get_current_head()

    def knows(self, revision: str) -> bool:
        """Whether ``revision`` is one of this code's migrations (a database migrated by a
        newer release holds one it does not)."""
        try:
            return self._script.get_revision(revision) is not None
        except CommandError:
            return False

    def current(self) -> str | None:
        return self._with_connection(
            lambda connection: MigrationContext.configure(connection).get_current_revision()
        )

    def upgrade(self, revision: str = "head") -> None:
        self._with_connection(
            lambda connection: self._command(command.upgrade, connection, revision)
        )

    def downgrade(self, revision: str) -> None:
        self._with_connection(
            lambda connection: self._command(command.downgrade, connection, revision)
        )

    def migrate_to(self, revision: str) -> None:
        """Go up or down to ``revision``: ``head``, ``base`` or a revision id."""
        if revision in ("head", "heads"):
            self.upgrade("head")
            return
        if revision == "base":
            self.downgrade("base")
            return
        target = self._resolve(revision)
        current = self.current()
        if current is not None and target in self._ancestors(current):
            self.downgrade(target)
        else:
            self.upgrade(target)

    def _resolve(self, revision: str) -> str:
        try:
            found = self._script.get_revision(revision)
        except CommandError as exc:
            raise MigrationError(f"unknown revision {revision!r}") from exc
        if found is None:
            raise MigrationError(f"unknown revision {revision!r}")
        return found.revision

    def _ancestors(self, revision: str) -> set[str]:
        """``revision`` and every revision below it."""
        return {rev.revision for rev in self._script.iterate_revisions(revision, "base")}

    def _command(
        self, action: Callable[[Config, str], None], connection: Connection, revision: str
    ) -> None:
        self._config.attributes["connection"] = connection
        try:
            action(self._config, revision)
        except CommandError as exc:
            raise MigrationError(str(exc)) from exc
        finally:
            self._config.attributes.pop("connection", None)

    def _with_connection(self, work: Callable[[Connection], T]) -> T:
        return asyncio.run(self._run(work))

    async def _run(self, work: Callable[[Connection], T]) -> T:
        try:
            url = make_url(self._url)
        except ArgumentError as exc:
            raise MigrationError("DATABASE_URL is not a valid database URL") from exc
        connect_args = (
            {} if url.get_backend_name() == "sqlite" else {"timeout": self._connect_timeout}
        )
        engine = create_async_engine(url, poolclass=NullPool, connect_args=connect_args)
        try:
            with translate_errors():
                # Not begun here: Alembic begins and commits the migrations' transaction
                # itself, and can then step outside it for what must run alone (an
                # index built CONCURRENTLY).
                async with engine.connect() as connection:
                    result = await connection.run_sync(work)
                    await connection.commit()
                    return result
        except StorageUnavailable as exc:
            where = url.render_as_string(hide_password=True)
            raise unusable_database(where, exc) from exc
        finally:
            await engine.dispose()
