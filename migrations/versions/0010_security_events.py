"""Create the security audit trail: append-only (on PostgreSQL a trigger refuses UPDATE).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REFUSE_UPDATE = """
CREATE FUNCTION security_events_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'security_events is append-only: an event is never changed'
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""
_TRIGGER = """
CREATE TRIGGER security_events_append_only BEFORE UPDATE ON security_events
FOR EACH STATEMENT EXECUTE FUNCTION security_events_refuse_update()
"""


def upgrade() -> None:
    op.create_table(
        "security_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=256), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_events")),
    )
    for by in ("user_id", "actor_id", "type"):
        op.create_index(f"ix_security_events_{by}_at_id", "security_events", [by, "at", "id"])
    op.create_index("ix_security_events_at_id", "security_events", ["at", "id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_REFUSE_UPDATE)
        op.execute(_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER security_events_append_only ON security_events")
        op.execute("DROP FUNCTION security_events_refuse_update()")
    op.drop_index("ix_security_events_at_id", table_name="security_events")
    for by in ("user_id", "actor_id", "type"):
        op.drop_index(f"ix_security_events_{by}_at_id", table_name="security_events")
    op.drop_table("security_events")
