"""The schema migrator, on its own: ``keel migrate`` needs it and nothing else of the
container (no engine, no use cases, no web framework)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from adapters.sqlalchemy.migrations import AlembicMigrator


# Alembic is imported only where it is used: a serving worker never needs it.
def migrator(database_url: str) -> AlembicMigrator:
    from adapters.sqlalchemy.migrations import AlembicMigrator

    return AlembicMigrator(database_url)
