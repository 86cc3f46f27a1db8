"""Repositories over SQLAlchemy Core, the write side: rows mapped straight to domain
entities (``rows``), changes written compare-and-set."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import Select, delete, func, insert, select, tuple_, update

from adapters.sqlalchemy.connection import Connection
from adapters.sqlalchemy.errors import translate_errors
from adapters.sqlalchemy.held_change import HeldChange
from adapters.sqlalchemy.held_inserts import HeldInsert, WorkConnection
from adapters.sqlalchemy.queries import (
    ITEM_BY_ID,
    ITEM_BY_ID_FOR_UPDATE,
    ITEM_UPDATE,
    USER_BY_EMAIL,
    USER_BY_ID,
    USER_BY_ID_FOR_UPDATE,
    USER_LOCKED_FOR_DELETION,
    has_role,
)
from adapters.sqlalchemy.rows import item_values, to_item, to_user, user_values
from adapters.sqlalchemy.tables import items, users
from domain.email import Email
from domain.errors import UserNotFound
from domain.item import Item
from domain.role import Role
from domain.user import User


class SqlAlchemyUserRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    async def get(self, user_id: uuid.UUID, *, for_update: bool = False) -> User | None:
        return await self._one(USER_BY_ID_FOR_UPDATE if for_update else USER_BY_ID, {"id": user_id})

    async def lock_for_deletion(self, user_id: uuid.UUID) -> None:
        # FOR UPDATE, not the FOR NO KEY UPDATE of other changes: it conflicts with the
        # FOR KEY SHARE an item's insert takes on its owner. (SQLite serialises writers.)
        with translate_errors():
            await self._connection.execute(USER_LOCKED_FOR_DELETION, {"id": user_id})

    async def get_by_email(self, email: Email) -> User | None:
        return await self._one(USER_BY_EMAIL, {"email": email.value})

    async def add(self, user: User) -> None:
        with translate_errors():
            await self._connection.execute(insert(users).values(**user_values(user)))

    async def update(self, previous: User, changed: User) -> bool:
        before, after = user_values(previous), user_values(changed)
        values = {name: value for name, value in after.items() if before[name] != value}
        if not values:
            values = {"version": previous.version}  # still a check that nothing moved
        # One statement compares and sets: on PostgreSQL a concurrent writer holding the
        # row makes this wait, then the condition is checked again on what it committed.
        statement = (
            update(users)
            .where(users.c.id == previous.id, users.c.version == previous.version)
            .values(**values)
        )
        with translate_errors():
            result = await self._connection.execute(statement)
        return bool(result.rowcount == 1)

    async def delete(self, user_id: uuid.UUID, *, expected_version: int | None = None) -> bool:
        statement = delete(users).where(users.c.id == user_id)
        if expected_version is not None:
            statement = statement.where(users.c.version == expected_version)
        with translate_errors():
            result = await self._connection.execute(statement)
        return bool(result.rowcount == 1)

    async def count_admins(self) -> int:
        query = (
            select(func.count())
            .select_from(users)
            .where(users.c.is_active.is_(True), has_role(Role.ADMIN))
        )
        with translate_errors():
            return int((await self._connection.execute(query)).scalar_one())

    async def lock_active_admins(self) -> int:
        # FOR NO KEY UPDATE, taken in id order: two transactions that may each remove an
        # administrator queue on the first row instead of deadlocking, and the second one,
        # once let through, re-reads the rows the first changed or deleted and leaves them
        # out of its count. Inserts that only reference these rows are not held up.
        # SQLite has no row locks and serialises writers; there the clause is left out.
        query = (
            select(users.c.id)
            .where(users.c.is_active.is_(True), has_role(Role.ADMIN))
            .order_by(users.c.id)
            .with_for_update(key_share=True)
        )
        with translate_errors():
            return len((await self._connection.execute(query)).all())

    async def _one(self, query: Select[Any], parameters: dict[str, Any]) -> User | None:
        with translate_errors():
            row = (await self._connection.execute(query, parameters)).first()
        return to_user(row) if row is not None else None


class SqlAlchemyItemRepository:
    def __init__(self, connection: WorkConnection) -> None:
        self._connection = connection

    async def get(self, item_id: uuid.UUID, *, for_update: bool = False) -> Item | None:
        if not for_update:
            rows = await self._connection.read_first(ITEM_BY_ID, {"id": item_id})
            if rows is not None:
                return to_item(rows[0]) if rows else None
        query = ITEM_BY_ID_FOR_UPDATE if for_update else ITEM_BY_ID
        with translate_errors():
            row = (await self._connection.execute(query, {"id": item_id})).first()
        return to_item(row) if row is not None else None

    async def add(self, item: Item) -> None:
        # Sent with the next statement or the commit (an owner deleted meanwhile is
        # reported there): a new item and its event go as one statement on PostgreSQL.
        self._connection.hold(HeldInsert(items, item_values(item), missing_reference=UserNotFound))

    async def update(self, item: Item, *, expected_version: int) -> bool:
        values = {
            "item_id": item.id,
            "expected": expected_version,
            "new_title": item.title,
            "new_description": item.description,
            "new_updated_at": item.updated_at,
            "new_version": item.version,
        }
        # One statement compares and sets: on PostgreSQL a concurrent writer holding the
        # row makes this wait, then the condition is checked again on what it committed.
        if self._connection.can_hold_change():
            # Sent with its events at the commit, which raises ChangedMeanwhile instead.
            self._connection.hold_change(HeldChange(ITEM_UPDATE, values))
            return True
        with translate_errors():
            result = await self._connection.execute(ITEM_UPDATE, values)
        return bool(result.rowcount == 1)

    async def delete(self, item_id: uuid.UUID, *, expected_version: int | None = None) -> bool:
        statement = delete(items).where(items.c.id == item_id)
        if expected_version is not None:
            statement = statement.where(items.c.version == expected_version)
        with translate_errors():
            result = await self._connection.execute(statement)
        return bool(result.rowcount == 1)

    async def delete_owned_by(self, owner_id: uuid.UUID) -> None:
        with translate_errors():
            await self._connection.execute(delete(items).where(items.c.owner_id == owner_id))

    async def delete_owned_by_in_chunks(
        self, owner_id: uuid.UUID, size: int
    ) -> AsyncIterator[list[tuple[uuid.UUID, int]]]:
        # Ranges along the owner's index, each after the last: two index range scans a
        # chunk, never a scan of the table, nor of the rows deleted already (they stay in
        # the index until the transaction ends).
        key = tuple_(items.c.created_at, items.c.id)
        place: Any = None
        while True:
            after = [items.c.owner_id == owner_id]
            if place is not None:
                after.append(key > tuple_(*place))
            last_of_chunk = (
                select(items.c.created_at, items.c.id)
                .where(*after)
                .order_by(items.c.created_at, items.c.id)
                .offset(size - 1)
                .limit(1)
            )
            with translate_errors():
                bound = (await self._connection.execute(last_of_chunk)).first()
                statement = delete(items).where(*after)
                if bound is not None:
                    statement = statement.where(key <= tuple_(*bound))
                rows = (
                    await self._connection.execute(statement.returning(items.c.id, items.c.version))
                ).all()
            if rows:
                yield [(row.id, row.version) for row in rows]
            if bound is None:
                return
            place = tuple(bound)
