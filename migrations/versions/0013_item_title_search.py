"""A trigram index on items' titles: the `q` search (a substring, ignoring case) is served
by an index on PostgreSQL however many items there are. SQLite keeps a plain LIKE.

``CREATE EXTENSION pg_trgm`` needs a role allowed to create it (a superuser, or on managed
databases the owner of the database where pg_trgm is a trusted extension, as it is from
PostgreSQL 13). The index is built CONCURRENTLY, outside the migration's transaction, so
writes to items go on while it is built.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_items_title_trgm"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.get_context().autocommit_block():
        # A build interrupted half-way leaves an invalid index of this name: drop it first.
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")
        op.execute(f"CREATE INDEX CONCURRENTLY {INDEX} ON items USING gin (title gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    with op.get_context().autocommit_block():
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")
    # pg_trgm stays: other objects may use it, and dropping it needs the same privilege.
