"""Fold stored emails to the normal form of domain/email.py: NFKC, lower case and the domain in
ASCII (IDNA), so that ``ａda@example.com`` and ``ada@example.com`` are one account.

Accounts are never merged: when two of them would end up with one address, or an address is
refused by the new rules, the migration stops before it changes anything and names the accounts
(by id) for an operator to resolve (change or delete one), then to migrate again. The addresses
that pending reset and verification links were sent to (``one_time_tokens``) are folded too,
so that a link still matches its account.

Downgrading keeps the folded addresses: they are valid under the earlier rules as well.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from application.errors import MigrationError
from domain.email import Email
from domain.errors import InvalidEmail

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables as this revision knows them, whatever later revisions add.
_users = sa.table("users", sa.column("id", sa.Uuid()), sa.column("email", sa.String(320)))
_tokens = sa.table(
    "one_time_tokens", sa.column("id", sa.Uuid()), sa.column("email", sa.String(320))
)


def upgrade() -> None:
    connection = op.get_bind()
    users = connection.execute(sa.select(_users.c.id, _users.c.email)).all()
    folded_users, refused = _fold(users)
    holders: dict[str, list[str]] = {}
    for user_id, email in users:
        holders.setdefault(folded_users.get(str(user_id), email), []).append(str(user_id))
    shared = sorted(sorted(ids) for ids in holders.values() if len(ids) > 1)
    if shared or refused:
        raise MigrationError(_refusal(shared, sorted(refused)))
    _write(connection, _users, users, folded_users)
    tokens = connection.execute(sa.select(_tokens.c.id, _tokens.c.email)).all()
    # A token whose address the new rules refuse matches no account already: left as it is.
    _write(connection, _tokens, tokens, _fold(tokens)[0])


def downgrade() -> None:
    """Nothing to undo: the folded addresses are valid under the earlier rules."""


def _fold(rows: Sequence[Any]) -> tuple[dict[str, str], list[str]]:
    """Each row's address in the normal form, by id; and the ids of addresses refused."""
    folded: dict[str, str] = {}
    refused: list[str] = []
    for row_id, email in rows:
        try:
            folded[str(row_id)] = Email(email).value
        except InvalidEmail:
            refused.append(str(row_id))
    return folded, refused


def _write(
    connection: sa.Connection,
    table: sa.TableClause,
    rows: Sequence[Any],
    folded: dict[str, str],
) -> None:
    changes = [
        {"row_id": row_id, "folded": folded[str(row_id)]}
        for row_id, email in rows
        if str(row_id) in folded and folded[str(row_id)] != email
    ]
    if changes:
        statement = (
            sa.update(table)
            .where(table.c.id == sa.bindparam("row_id"))
            .values(email=sa.bindparam("folded"))
        )
        connection.execute(statement, changes)


def _refusal(shared: list[list[str]], refused: list[str]) -> str:
    problems = []
    if shared:
        groups = "; ".join(", ".join(ids) for ids in shared)
        problems.append(f"accounts whose emails become one address: {groups}")
    if refused:
        problems.append(f"accounts whose email is not a valid address: {', '.join(refused)}")
    return (
        "migration 0005 folds emails to one normal form and changed nothing: "
        + "; ".join(problems)
        + " (change or delete these accounts, then migrate again)"
    )
