"""Keyset pages, the capped count and the title search, alike on memory, SQLite and
PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from application.ports import ItemFilter, ItemReader, UnitOfWork, UserFilter, UserReader
from domain.item import Item
from domain.keyset import Key
from domain.pagination import COUNT_CAP, Page, PageRequest
from domain.user import User
from tests.support.builders import a_user, an_item

UowFactory = Callable[[], UnitOfWork]
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
make_user = partial(a_user, now=T0)


async def save(uow_factory: UowFactory, *things: User | Item) -> None:
    async with uow_factory() as uow:
        for thing in things:
            if isinstance(thing, User):
                await uow.users.add(thing)
            else:
                await uow.items.add(thing)
        await uow.commit()


def after(page: Page[Item] | Page[User]) -> Key:
    last = page.items[-1]
    return Key(at=last.created_at, id=last.id)


@pytest.mark.parametrize("by_owner", [True, False], ids=["own", "everyone"])
async def test_walking_by_key_gives_every_item_once_in_order(
    uow_factory: UowFactory, item_reader: ItemReader, by_owner: bool
) -> None:
    owner, other = make_user("o@example.com"), make_user("p@example.com")
    # Three share each timestamp (the id breaks the tie), some microseconds apart.
    items = [
        an_item(owner if n % 4 else other, title=f"i{n}", now=T0 + timedelta(seconds=n // 3))
        for n in range(23)
    ] + [an_item(owner, title="µ", now=T0 + timedelta(microseconds=1))]
    await save(uow_factory, owner, other, *items)
    where = ItemFilter(owner_id=owner.id if by_owner else None)
    expected = sorted(
        (i for i in items if not by_owner or i.owner_id == owner.id),
        key=lambda i: (i.created_at, i.id),
        reverse=True,
    )
    page = await item_reader.list(where, PageRequest(1, 4))
    seen, numbers = list(page.items), [page.page]
    while page.has_next:
        page = await item_reader.list(
            where, PageRequest(page.page + 1, 4, after=after(page), count=False)
        )
        assert (page.total, page.total_is_exact) == (None, False)
        seen += page.items
        numbers.append(page.page)
    assert [i.id for i in seen] == [i.id for i in expected]
    assert seen == expected
    assert numbers == list(range(1, len(numbers) + 1))


async def test_walking_users_by_key(uow_factory: UowFactory, user_reader: UserReader) -> None:
    users = [make_user(f"u{n}@example.com", now=T0 + timedelta(seconds=n // 2)) for n in range(9)]
    await save(uow_factory, *users)
    expected = sorted(users, key=lambda u: (u.created_at, u.id), reverse=True)
    page = await user_reader.list(UserFilter(), PageRequest(1, 2))
    seen = list(page.items)
    while page.has_next:
        page = await user_reader.list(UserFilter(), PageRequest(2, 2, after=after(page)))
        assert (page.total, page.total_is_exact) == (9, True)  # counted when asked for
        seen += page.items
    assert [u.id for u in seen] == [u.id for u in expected]


async def test_a_key_past_the_oldest_gives_an_empty_last_page(
    uow_factory: UowFactory, item_reader: ItemReader
) -> None:
    owner = make_user("o@example.com")
    await save(uow_factory, owner, an_item(owner, now=T0))
    key = Key(at=T0 - timedelta(days=1), id=uuid.uuid4())
    page = await item_reader.list(ItemFilter(owner_id=owner.id), PageRequest(2, after=key))
    assert (page.items, page.has_next, page.total, page.total_is_exact) == ([], False, 1, True)


async def test_small_totals_are_exact_and_big_ones_flagged(
    uow_factory: UowFactory, item_reader: ItemReader
) -> None:
    owner, other = make_user("o@example.com"), make_user("p@example.com")
    many = [
        an_item(owner, title="x", now=T0 + timedelta(microseconds=n)) for n in range(COUNT_CAP + 5)
    ]
    await save(uow_factory, owner, other, an_item(other, now=T0), *many)
    small = await item_reader.list(ItemFilter(owner_id=other.id), PageRequest(1, 20))
    assert (small.total, small.total_is_exact, small.has_next) == (1, True, False)
    big = await item_reader.list(ItemFilter(owner_id=owner.id), PageRequest(1, 20))
    assert (big.total, big.total_is_exact, big.has_next) == (COUNT_CAP, False, True)
    everyone = await item_reader.list(ItemFilter(), PageRequest(3, 20))
    assert (everyone.total, everyone.total_is_exact) == (COUNT_CAP, False)
    # The last page by number knows the exact number: every row before it was skipped.
    last = await item_reader.list(ItemFilter(owner_id=owner.id), PageRequest(501, 20))
    assert (len(last.items), last.total, last.total_is_exact) == (5, COUNT_CAP + 5, True)
    past = await item_reader.list(ItemFilter(owner_id=owner.id), PageRequest(600, 20))
    assert (past.items, past.total, past.total_is_exact) == ([], COUNT_CAP, False)


async def test_the_title_search_matches_wildcards_literally(
    uow_factory: UowFactory, item_reader: ItemReader
) -> None:
    owner = make_user("o@example.com")
    titles = ["100% sure", "100 percent", "snake_case", "snakeXcase", "a\\b", "a/b", "ab", "a//b"]
    await save(
        uow_factory,
        owner,
        *[an_item(owner, title=t, now=T0 + timedelta(seconds=n)) for n, t in enumerate(titles)],
    )

    async def found(q: str) -> set[str]:
        page = await item_reader.list(ItemFilter(q=q), PageRequest(1, 20))
        return {i.title for i in page.items}

    assert await found("0%") == {"100% sure"}
    assert await found("%") == {"100% sure"}
    assert await found("e_c") == {"snake_case"}
    assert await found("_") == {"snake_case"}
    assert await found("\\") == {"a\\b"}
    assert await found("a\\b") == {"a\\b"}
    assert await found("/") == {"a/b", "a//b"}
    assert await found("a/b") == {"a/b"}
    assert await found("A%") == set()
    assert await found("SNAKE") == {"snake_case", "snakeXcase"}
