"""The job queue: procrastinate's tables in PostgreSQL, and the outbox as a plain hand-over.

The outbox keeps what a change causes until a relay moves it into the queue; retries and
failures are the queue's from then on, so the outbox's own retry columns go.

On PostgreSQL this runs the schema of procrastinate 3.10.0 as it ships
(``migrations/sql/procrastinate-3.10.0.sql``): the version is pinned, and a later version's
schema changes come as revisions of their own. SQLite has no queue table: there the jobs
live in the memory of the process that runs them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlalchemy.util import await_

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = Path(__file__).parent.parent / "sql" / "procrastinate-3.10.0.sql"

DROP_SCHEMA = """
DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
    procrastinate_workers CASCADE;
DO $$
DECLARE f record;
BEGIN
    FOR f IN SELECT p.oid::regprocedure AS signature
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%'
    LOOP
        EXECUTE 'DROP FUNCTION ' || f.signature || ' CASCADE';
    END LOOP;
END;
$$;
DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type,
    procrastinate_job_status;
"""


def _run_script(script: str) -> None:
    """Several statements at once, on the migration's own connection and transaction:
    asyncpg runs a script without parameters through the simple query protocol."""
    await_(op.get_bind().connection.driver_connection.execute(script))


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_available_at")
        batch.drop_column("available_at")
        batch.drop_column("attempts")
        batch.drop_column("last_error")
        batch.drop_column("failed_at")
        batch.create_index("ix_outbox_created_at", ["created_at"])
    if op.get_bind().dialect.name == "postgresql":
        _run_script(SCHEMA.read_text(encoding="utf-8"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _run_script(DROP_SCHEMA)
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_created_at")
        batch.add_column(
            sa.Column(
                "available_at",
                sa.DateTime(timezone=True),
                nullable=False,
                server_default=sa.text("CURRENT_TIMESTAMP"),
            )
        )
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_outbox_available_at", ["available_at"])
