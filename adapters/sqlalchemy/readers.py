"""The read side in SQL: the statements of ``queries``, run by ``reads`` (through
SQLAlchemy, or on asyncpg's connection), mapped by ``rows``."""

from __future__ import annotations

import uuid
from typing import Any

from adapters.sqlalchemy.queries import (
    ITEM_BY_ID,
    SIGNED_IN_USER,
    USER_BY_EMAIL,
    USER_BY_ID,
    PageQuery,
    item_page,
    role_pattern,
    title_pattern,
    user_page,
)
from adapters.sqlalchemy.reads import Reads, Rows
from adapters.sqlalchemy.rows import to_item, to_user
from application.ports import ItemFilter, UserFilter
from domain.email import Email
from domain.item import Item
from domain.pagination import COUNT_CAP, Page, PageRequest
from domain.user import User


class SqlAlchemyUserReader:
    def __init__(self, reads: Reads) -> None:
        self._reads = reads

    async def get(self, user_id: uuid.UUID) -> User | None:
        rows = await self._reads.rows(USER_BY_ID, {"id": user_id})
        return to_user(rows[0]) if rows else None

    async def get_signed_in(self, user_id: uuid.UUID, session_id: uuid.UUID) -> User | None:
        rows = await self._reads.rows(SIGNED_IN_USER, {"id": user_id, "session_id": session_id})
        return to_user(rows[0]) if rows else None

    async def get_by_email(self, email: Email) -> User | None:
        rows = await self._reads.rows(USER_BY_EMAIL, {"email": email.value})
        return to_user(rows[0]) if rows else None

    async def list(self, where: UserFilter, page: PageRequest) -> Page[User]:
        parameters: dict[str, Any] = {}
        if where.email is not None:
            parameters["email"] = where.email.value
        if where.role is not None:
            parameters["role"] = role_pattern(where.role)
        query = user_page(where.email is not None, where.is_active, where.role is not None)
        rows, counted = await page_rows(self._reads, query, parameters, page)
        return Page.of_rows([to_user(row) for row in rows], counted, page)


class SqlAlchemyItemReader:
    def __init__(self, reads: Reads) -> None:
        self._reads = reads

    async def get(self, item_id: uuid.UUID) -> Item | None:
        rows = await self._reads.rows(ITEM_BY_ID, {"id": item_id})
        return to_item(rows[0]) if rows else None

    async def list(self, where: ItemFilter, page: PageRequest) -> Page[Item]:
        parameters: dict[str, Any] = {}
        if where.owner_id is not None:
            parameters["owner_id"] = where.owner_id
        if where.q:
            parameters["title"] = title_pattern(where.q)
        query = item_page(where.owner_id is not None, bool(where.q))
        rows, counted = await page_rows(self._reads, query, parameters, page)
        return Page.of_rows([to_item(row) for row in rows], counted, page)

    async def count(self, where: ItemFilter) -> int:
        parameters: dict[str, Any] = {"cap": COUNT_CAP + 1}
        if where.owner_id is not None:
            parameters["owner_id"] = where.owner_id
        if where.q:
            parameters["title"] = title_pattern(where.q)
        query = item_page(where.owner_id is not None, bool(where.q))
        counted = await self._reads.rows(query.count, parameters)
        return int(counted[0][0])


async def page_rows(
    reads: Reads, query: PageQuery, parameters: dict[str, Any], page: PageRequest
) -> tuple[Rows, int | None]:
    """Up to ``page.limit`` rows and, when asked for, the matching rows counted up to
    ``COUNT_CAP + 1``, which come with each row: a second statement only for a page past
    the end."""
    bounds: dict[str, Any] = {"limit": page.limit, "offset": page.offset}
    if page.after is not None:
        bounds |= {"after_at": page.after.at, "after_id": page.after.id}
    if page.count:
        bounds["cap"] = COUNT_CAP + 1
    statement = query.pages[page.after is not None, page.count]
    rows = await reads.rows(statement, parameters | bounds)
    if not page.count:
        return rows, None
    if rows:
        return rows, int(rows[0][-1])  # the rows' mappers read the columns before it
    if page.offset == 0 and page.after is None:
        return rows, 0
    counted = await reads.rows(query.count, parameters | {"cap": COUNT_CAP + 1})
    return rows, int(counted[0][0])
