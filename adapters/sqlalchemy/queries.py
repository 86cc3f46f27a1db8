"""The reads' statements, built once: the hottest reads skip building and hashing a
statement per call. Every value is a named parameter, so that the same statement runs
through SQLAlchemy and, compiled once, on asyncpg's connection (``driver``)."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Integer,
    Select,
    String,
    Table,
    bindparam,
    exists,
    func,
    literal_column,
    select,
    tuple_,
    update,
)

from adapters.sqlalchemy.driver import PLAN_EACH_TIME
from adapters.sqlalchemy.tables import items, refresh_sessions, users
from domain.role import Role

USER_BY_ID = select(users).where(users.c.id == bindparam("id"))
USER_BY_ID_FOR_UPDATE = USER_BY_ID.with_for_update(key_share=True)
USER_LOCKED_FOR_DELETION = select(users.c.id).where(users.c.id == bindparam("id")).with_for_update()
# A request's caller: the user, while the session its token names has not ended. One read.
SIGNED_IN_USER = USER_BY_ID.where(
    exists().where(
        refresh_sessions.c.family_id == bindparam("session_id"),
        refresh_sessions.c.user_id == users.c.id,
        refresh_sessions.c.revoked_at.is_(None),
    )
)
USER_BY_EMAIL = select(users).where(users.c.email == bindparam("email"))
ITEM_BY_ID = select(items).where(items.c.id == bindparam("id"))
# FOR NO KEY UPDATE: the id is not changed, so nothing that only references the row waits.
# SQLAlchemy leaves the clause out on SQLite.
ITEM_BY_ID_FOR_UPDATE = ITEM_BY_ID.with_for_update(key_share=True)

# An item's change, compare and set: built once, so that SQLAlchemy neither builds nor
# keys a statement per write.
ITEM_UPDATE = (
    update(items)
    .where(items.c.id == bindparam("item_id"), items.c.version == bindparam("expected"))
    # Not the columns' names: SQLAlchemy keeps those for the SET clause's own parameters.
    .values(
        title=bindparam("new_title"),
        description=bindparam("new_description"),
        updated_at=bindparam("new_updated_at"),
        version=bindparam("new_version"),
    )
)

_SPACE = literal_column("' '", String)


def has_role(role: Role | ColumnElement[str]) -> ColumnElement[bool]:
    """Roles are kept space-separated: both sides padded, so one name never matches inside
    another. ``role``: a role, or a parameter that holds `` name `` (``role_pattern``)."""
    pattern = role_pattern(role) if isinstance(role, Role) else role
    return (_SPACE + users.c.roles + _SPACE).contains(pattern)


def role_pattern(role: Role) -> str:
    return f" {role.value} "


def title_pattern(part: str) -> str:
    """A LIKE pattern for titles holding ``part`` (lower case), its wildcards escaped: the
    escape character too, so that ``%``, ``_``, ``/`` and ``\\`` match themselves."""
    escaped = part.lower().replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%"


class PageQuery:
    """The statements of one listing and combination of filters, newest first, ties by id:
    a page by number (``:limit``, ``:offset``) or after a key (``:after_at``,
    ``:after_id``: ``(created_at, id) < (:after_at, :after_id)``, which the listing's index
    serves at any depth), each with or without the number of matching rows counted up to
    ``:cap`` (a scalar subquery run once, carried by every row); and that number alone,
    for a page past the end, which has no row to carry it."""

    __slots__ = ("count", "pages")

    def __init__(
        self, table: Table, conditions: list[ColumnElement[bool]], plan_each_time: bool = False
    ) -> None:
        capped = (
            select(literal_column("1"))
            .select_from(table)
            .where(*conditions)
            .limit(bindparam("cap", type_=Integer))
            .subquery("matching")
        )
        options = {PLAN_EACH_TIME: plan_each_time}
        self.count: Select[Any] = (
            select(func.count()).select_from(capped).execution_options(**options)
        )
        key = tuple_(table.c.created_at, table.c.id)
        after = key < tuple_(
            bindparam("after_at", type_=DateTime(timezone=True)),
            bindparam("after_id", type_=table.c.id.type),
        )
        # Indexed by (after a key, counted).
        self.pages: dict[tuple[bool, bool], Select[Any]] = {}
        for by_key in (False, True):
            for counted in (False, True):
                columns = [table, self.count.scalar_subquery()] if counted else [table]
                where = [*conditions, after] if by_key else conditions
                self.pages[by_key, counted] = (
                    select(*columns)
                    .where(*where)
                    .order_by(table.c.created_at.desc(), table.c.id.desc())
                    .limit(bindparam("limit", type_=Integer))
                    .offset(bindparam("offset", type_=Integer))
                    .execution_options(**options)
                )


# The listings' statements, built once for each combination of filters (a handful).
@functools.cache
def user_page(by_email: bool, is_active: bool | None, by_role: bool) -> PageQuery:
    conditions: list[ColumnElement[bool]] = []
    if by_email:
        conditions.append(users.c.email == bindparam("email"))
    if is_active is not None:
        conditions.append(users.c.is_active.is_(is_active))
    if by_role:
        conditions.append(has_role(bindparam("role", type_=String)))
    return PageQuery(users, conditions)


@functools.cache
def item_page(by_owner: bool, by_title: bool) -> PageQuery:
    conditions: list[ColumnElement[bool]] = []
    if by_owner:
        conditions.append(items.c.owner_id == bindparam("owner_id"))
    if by_title:
        # ILIKE on PostgreSQL, which the trigram index serves; lower() LIKE lower() on
        # SQLite.
        conditions.append(items.c.title.ilike(bindparam("title", type_=String), escape="/"))
    # A search's best plan depends on the word: planned for it each time (``driver``).
    return PageQuery(items, conditions, plan_each_time=by_title)
