"""Repositories map rows by position, in the order ``select(table)`` gives the columns: the
table's. A row laid out in that order must come back as the entity it was made from."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from adapters.sqlalchemy.repositories import _item_row, _to_item, _to_row, _to_user
from adapters.sqlalchemy.tables import items, users
from domain.email import Email
from domain.item import Item
from domain.role import Role
from domain.user import User

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_a_user_row_in_the_tables_order_is_the_user() -> None:
    user = User(
        id=uuid.uuid4(),
        email=Email("ada@example.com"),
        hashed_password="$argon2id$hash",
        full_name="Ada",
        roles=frozenset({Role.USER, Role.ADMIN}),
        is_active=True,
        is_superuser=False,
        is_verified=True,
        created_at=NOW,
        updated_at=NOW + timedelta(seconds=1),
        sessions_valid_after=NOW + timedelta(seconds=2),
        version=3,
    )
    row = _to_row(user)
    assert set(row) == set(users.columns.keys())
    assert _to_user(tuple(row[name] for name in [column.name for column in users.columns])) == user


def test_an_item_row_in_the_tables_order_is_the_item() -> None:
    item = Item(uuid.uuid4(), uuid.uuid4(), "t", "d", NOW, NOW + timedelta(seconds=1), version=2)
    row = _item_row(item)
    assert set(row) == set(items.columns.keys())
    assert _to_item(tuple(row[name] for name in [column.name for column in items.columns])) == item
