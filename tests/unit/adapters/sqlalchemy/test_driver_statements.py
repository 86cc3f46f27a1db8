"""``adapters.sqlalchemy.driver`` leans on SQLAlchemy beyond its documented use: the order of
a compiled statement's positional parameters, and ``greenlet_spawn``. These fail loudly when
an upgrade of SQLAlchemy changes either, before a read sends a value to the wrong place."""

from __future__ import annotations

import itertools
import re
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import Select, bindparam, select
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.util import greenlet_spawn

from adapters.sqlalchemy import queries
from adapters.sqlalchemy.driver import for_driver
from adapters.sqlalchemy.tables import items, users
from domain.role import Role

DIALECT = asyncpg_dialect()


def every_read() -> list[Select[object]]:
    statements: list[Select[object]] = [
        queries.USER_BY_ID,
        queries.SIGNED_IN_USER,
        queries.USER_BY_EMAIL,
        queries.ITEM_BY_ID,
    ]
    for by_email, is_active, by_role in itertools.product(
        (False, True), (None, False, True), (False, True)
    ):
        page = queries.user_page(by_email, is_active, by_role)
        statements += [*page.pages.values(), page.count]
    for by_owner, by_title in itertools.product((False, True), (False, True)):
        page = queries.item_page(by_owner, by_title)
        statements += [*page.pages.values(), page.count]
    return statements


@pytest.mark.parametrize("statement", every_read())
def test_each_read_compiles_to_numbered_parameters_named_in_their_order(
    statement: Select[object],
) -> None:
    compiled = for_driver(statement, DIALECT)
    numbers = [int(n) for n in re.findall(r"\$(\d+)", compiled.sql)]
    # A name used twice (a filter in the page and in its count) is one number.
    assert list(dict.fromkeys(numbers)) == list(range(1, len(compiled.names) + 1))
    # Each name is where its placeholder is: the value given for it lands there.
    parameters = {name: f"<{name}>" for name in compiled.names}
    assert compiled.values(parameters) == [f"<{name}>" for name in compiled.names]
    assert set(compiled.names) <= {
        "id",
        "session_id",
        "email",
        "role",
        "owner_id",
        "title",
        "limit",
        "offset",
        "cap",
        "after_at",
        "after_id",
    }


def test_the_order_is_the_order_in_the_sql() -> None:
    page = queries.user_page(True, True, True).pages[False, False]
    compiled = for_driver(page, DIALECT)
    assert compiled.names == ("email", "role", "limit", "offset")
    assert compiled.sql.index("users.email = $1") < compiled.sql.index("LIMIT $3")
    assert "OFFSET $4" in compiled.sql


def test_statements_the_driver_cannot_run_as_compiled_are_refused() -> None:
    with pytest.raises(TypeError, match="value of its own"):
        for_driver(select(users).where(users.c.roles.contains(Role.ADMIN.value)), DIALECT)
    with pytest.raises(TypeError, match="conversion"):  # UTCDateTime converts on the way in
        for_driver(select(items).where(items.c.created_at > bindparam("since")), DIALECT)
    with pytest.raises(TypeError, match="as compiled"):
        for_driver(select(items).where(items.c.id.in_(bindparam("ids", expanding=True))), DIALECT)


async def test_greenlet_spawn_runs_the_pools_synchronous_code_from_asyncio() -> None:
    assert await greenlet_spawn(lambda: uuid.UUID(int=1)) == uuid.UUID(int=1)
    assert await greenlet_spawn(datetime.now, UTC) <= datetime.now(UTC)
