"""Repositories over SQLAlchemy Core: rows mapped straight to domain entities."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Table,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)

from adapters.sqlalchemy.connection import Connection, RowValues
from adapters.sqlalchemy.errors import translate_errors
from adapters.sqlalchemy.tables import items, refresh_sessions, users
from application.ports import ItemFilter, UserFilter
from domain.email import Email
from domain.errors import UserNotFound
from domain.item import Item
from domain.pagination import Page, PageRequest
from domain.role import Role
from domain.user import User

# Built once: the hottest reads skip building and hashing a statement per call.
_USER_BY_ID = select(users).where(users.c.id == bindparam("id"))
_USER_BY_ID_FOR_UPDATE = _USER_BY_ID.with_for_update(key_share=True)
# A request's caller: the user, while the session its token names has not ended. One read.
_SIGNED_IN_USER = _USER_BY_ID.where(
    exists().where(
        refresh_sessions.c.family_id == bindparam("session_id"),
        refresh_sessions.c.user_id == users.c.id,
        refresh_sessions.c.revoked_at.is_(None),
    )
)
_USER_BY_EMAIL = select(users).where(users.c.email == bindparam("email"))
_ITEM_BY_ID = select(items).where(items.c.id == bindparam("id"))
# FOR NO KEY UPDATE: the id is not changed, so nothing that only references the row waits.
# SQLAlchemy leaves the clause out on SQLite.
_ITEM_BY_ID_FOR_UPDATE = _ITEM_BY_ID.with_for_update(key_share=True)


class SqlAlchemyUserRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    async def get(self, user_id: uuid.UUID, *, for_update: bool = False) -> User | None:
        return await self._one(
            _USER_BY_ID_FOR_UPDATE if for_update else _USER_BY_ID, {"id": user_id}
        )

    async def get_signed_in(self, user_id: uuid.UUID, session_id: uuid.UUID) -> User | None:
        return await self._one(_SIGNED_IN_USER, {"id": user_id, "session_id": session_id})

    async def get_by_email(self, email: Email) -> User | None:
        return await self._one(_USER_BY_EMAIL, {"email": email.value})

    async def add(self, user: User) -> None:
        with translate_errors():
            await self._connection.execute(insert(users).values(**_to_row(user)))

    async def update(self, previous: User, changed: User) -> bool:
        before, after = _to_row(previous), _to_row(changed)
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
            .where(users.c.is_active.is_(True), _has_role(Role.ADMIN))
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
            .where(users.c.is_active.is_(True), _has_role(Role.ADMIN))
            .order_by(users.c.id)
            .with_for_update(key_share=True)
        )
        with translate_errors():
            return len((await self._connection.execute(query)).all())

    async def list(self, where: UserFilter, page: PageRequest) -> Page[User]:
        statements = _user_page_statements(where.email is not None, where.is_active, where.role)
        parameters = {"email": where.email.value} if where.email is not None else {}
        rows, total = await _page(self._connection, statements, parameters, page)
        return Page([_to_user(row) for row in rows], total, page.page, page.page_size)

    async def _one(self, query: Select[Any], parameters: dict[str, Any]) -> User | None:
        with translate_errors():
            rows = await self._connection.rows(query, parameters)
        return _to_user(rows[0]) if rows else None


def _to_row(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email.value,
        "hashed_password": user.hashed_password,
        "full_name": user.full_name,
        "roles": " ".join(sorted(role.value for role in user.roles)),
        "is_active": user.is_active,
        "is_superuser": user.is_superuser,
        "is_verified": user.is_verified,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "sessions_valid_after": user.sessions_valid_after,
        "version": user.version,
    }


def _to_user(row: RowValues) -> User:
    # The columns in the table's order, as ``select(users)`` gives them. Times are aware UTC
    # on both paths: asyncpg's own, and the column type's on SQLAlchemy's.
    (
        user_id,
        email,
        hashed_password,
        full_name,
        roles,
        is_active,
        is_superuser,
        is_verified,
        created_at,
        updated_at,
        sessions_valid_after,
        version,
    ) = row
    return User(
        id=user_id,
        email=Email.stored(email),
        hashed_password=hashed_password,
        full_name=full_name,
        roles=frozenset(Role(name) for name in roles.split()),
        is_active=is_active,
        is_superuser=is_superuser,
        is_verified=is_verified,
        created_at=created_at,
        updated_at=updated_at,
        sessions_valid_after=sessions_valid_after,
        version=version,
    )


class SqlAlchemyItemRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    async def get(self, item_id: uuid.UUID, *, for_update: bool = False) -> Item | None:
        query = _ITEM_BY_ID_FOR_UPDATE if for_update else _ITEM_BY_ID
        with translate_errors():
            rows = await self._connection.rows(query, {"id": item_id})
        return _to_item(rows[0]) if rows else None

    async def add(self, item: Item) -> None:
        with translate_errors(missing_reference=UserNotFound):
            await self._connection.execute(insert(items).values(**_item_row(item)))

    async def update(self, item: Item, *, expected_version: int) -> bool:
        values = _item_row(item)
        del values["id"], values["owner_id"], values["created_at"]
        # One statement compares and sets: on PostgreSQL a concurrent writer holding the
        # row makes this wait, then the condition is checked again on what it committed.
        statement = (
            update(items)
            .where(items.c.id == item.id, items.c.version == expected_version)
            .values(**values)
        )
        with translate_errors():
            result = await self._connection.execute(statement)
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

    async def list(self, where: ItemFilter, page: PageRequest) -> Page[Item]:
        parameters: dict[str, Any] = {}
        if where.owner_id is not None:
            parameters["owner_id"] = where.owner_id
        if where.q:
            # A search is built each time: the title pattern is escaped into the statement.
            conditions = _item_conditions(where.owner_id is not None)
            conditions.append(func.lower(items.c.title).contains(where.q.lower(), autoescape=True))
            statements = _page_statements(items, conditions)
        else:
            statements = _item_page_statements(where.owner_id is not None)
        rows, total = await _page(self._connection, statements, parameters, page)
        return Page([_to_item(row) for row in rows], total, page.page, page.page_size)


def _has_role(role: Role) -> ColumnElement[bool]:
    # Roles are kept space-separated: pad both sides so one name never matches inside another.
    return (literal(" ") + users.c.roles + literal(" ")).contains(f" {role.value} ")


PageStatements = tuple[Select[Any], Select[Any]]


def _page_statements(table: Table, conditions: list[ColumnElement[bool]]) -> PageStatements:
    """One page of rows, newest first (``:limit``, ``:offset``), and the number of all
    matching rows."""
    query: Select[Any] = (
        select(table)
        .where(*conditions)
        .order_by(table.c.created_at.desc(), table.c.id.desc())
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )
    count: Select[Any] = select(func.count()).select_from(table).where(*conditions)
    return query, count


# The listings' statements, built once for each combination of filters (a handful).
def _item_conditions(by_owner: bool) -> list[ColumnElement[bool]]:
    return [items.c.owner_id == bindparam("owner_id")] if by_owner else []


@functools.cache
def _item_page_statements(by_owner: bool) -> PageStatements:
    return _page_statements(items, _item_conditions(by_owner))


@functools.cache
def _user_page_statements(
    by_email: bool, is_active: bool | None, role: Role | None
) -> PageStatements:
    conditions: list[ColumnElement[bool]] = []
    if by_email:
        conditions.append(users.c.email == bindparam("email"))
    if is_active is not None:
        conditions.append(users.c.is_active.is_(is_active))
    if role is not None:
        conditions.append(_has_role(role))
    return _page_statements(users, conditions)


async def _page(
    connection: Connection,
    statements: PageStatements,
    parameters: dict[str, Any],
    page: PageRequest,
) -> tuple[Sequence[RowValues], int]:
    query, count = statements
    bounds = {"limit": page.page_size, "offset": page.offset}
    with translate_errors():
        rows = await connection.rows(query, parameters | bounds)
        total = int((await connection.rows(count, parameters))[0][0])
    return rows, total


def _item_row(item: Item) -> dict[str, Any]:
    return {
        "id": item.id,
        "owner_id": item.owner_id,
        "title": item.title,
        "description": item.description,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "version": item.version,
    }


def _to_item(row: RowValues) -> Item:
    # The columns in the table's order, as ``select(items)`` gives them.
    item_id, owner_id, title, description, created_at, updated_at, version = row
    return Item(
        id=item_id,
        owner_id=owner_id,
        title=title,
        description=description,
        created_at=created_at,
        updated_at=updated_at,
        version=version,
    )
