"""The schema migrator, on its own: ``keel migrate`` needs it and nothing else of the
container (no engine, no use cases, no web framework)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from adapters.sqlalchemy.migrations import AlembicMigrator
    from adapters.sqlalchemy.revisions import MigrationChain


# Alembic is imported only where it is used: a serving worker never needs it.
def migrator(database_url: str) -> AlembicMigrator:
    from adapters.sqlalchemy.migrations import AlembicMigrator

    return AlembicMigrator(database_url)


def schema_status(database_url: str) -> tuple[str | None, MigrationChain]:
    """The database's revision and this code's migrations, without Alembic: what
    ``keel migrate --status`` prints."""
    from adapters.sqlalchemy.current_revision import read_current_revision
    from adapters.sqlalchemy.revisions import read_chain

    return read_current_revision(database_url), read_chain()
