"""Rows are mapped by position, in the order ``select(table)`` gives the columns: the
table's. A row laid out in that order must come back as the entity it was made from, with
plain ``uuid.UUID`` ids whatever UUID type the driver gave."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from asyncpg.pgproto.pgproto import UUID as DriverUUID  # noqa: N811

from adapters.sqlalchemy.rows import item_values, plain_uuid, to_item, to_user, user_values
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
    row = user_values(user)
    assert set(row) == set(users.columns.keys())
    assert to_user(tuple(row[name] for name in [column.name for column in users.columns])) == user


def test_an_item_row_in_the_tables_order_is_the_item() -> None:
    item = Item(uuid.uuid4(), uuid.uuid4(), "t", "d", NOW, NOW + timedelta(seconds=1), version=2)
    row = item_values(item)
    assert set(row) == set(items.columns.keys())
    assert to_item(tuple(row[name] for name in [column.name for column in items.columns])) == item


def test_the_drivers_ids_become_plain_uuids() -> None:
    item = Item(uuid.uuid4(), uuid.uuid4(), "t", None, NOW, NOW)
    row = item_values(item)
    row["id"], row["owner_id"] = DriverUUID(str(item.id)), DriverUUID(str(item.owner_id))
    mapped = to_item(tuple(row[column.name] for column in items.columns))
    assert mapped == item
    assert type(mapped.id) is uuid.UUID
    assert type(mapped.owner_id) is uuid.UUID
    plain = plain_uuid(DriverUUID(str(item.id)))
    assert (str(plain), hash(plain), plain.version, plain.is_safe) == (
        str(item.id),
        hash(item.id),
        4,
        uuid.SafeUUID.unknown,
    )
