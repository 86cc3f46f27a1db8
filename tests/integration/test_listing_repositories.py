"""Items and user listings behave the same on memory, SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

from application.ports import ItemFilter, ItemReader, UnitOfWork, UserFilter, UserReader
from domain.email import Email
from domain.item import Item
from domain.pagination import PageRequest
from domain.role import Role
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


async def test_item_round_trip_update_and_delete(uow_factory: UowFactory) -> None:
    owner = make_user("o@example.com")
    item = an_item(owner, title="Title", description="line\nline", now=T0)
    await save(uow_factory, owner, item)
    async with uow_factory() as uow:
        assert await uow.items.get(item.id) == item
    changed = dataclasses.replace(
        item, title="New", description=None, updated_at=T0 + timedelta(hours=1), version=2
    )
    async with uow_factory() as uow:
        assert await uow.items.update(changed, expected_version=item.version)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.items.get(item.id) == changed
        await uow.items.delete(item.id)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.items.get(item.id) is None


async def test_deleting_an_owner_with_their_items_leaves_others(uow_factory: UowFactory) -> None:
    alice, bob = make_user("a@example.com"), make_user("b@example.com")
    mine, theirs = an_item(alice, title="a", now=T0), an_item(bob, title="b", now=T0)
    await save(uow_factory, alice, bob, mine, theirs)
    async with uow_factory() as uow:
        await uow.items.delete_owned_by(alice.id)
        await uow.users.delete(alice.id)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.users.get(alice.id) is None
        assert await uow.items.get(mine.id) is None
        assert await uow.items.get(theirs.id) == theirs


async def test_a_rolled_back_delete_keeps_everything(uow_factory: UowFactory) -> None:
    alice = make_user("a@example.com")
    item = an_item(alice, title="a", now=T0)
    await save(uow_factory, alice, item)
    async with uow_factory() as uow:
        await uow.items.delete_owned_by(alice.id)
        await uow.users.delete(alice.id)
    async with uow_factory() as uow:
        assert await uow.users.get(alice.id) == alice
        assert await uow.items.get(item.id) == item


async def test_items_page_newest_first_with_ties_broken_by_id(
    uow_factory: UowFactory, item_reader: ItemReader
) -> None:
    owner = make_user("o@example.com")
    # Three share one timestamp: the id decides, the same way on every backend.
    items = [
        an_item(owner, title=f"item {n}", now=T0 + timedelta(seconds=n // 3)) for n in range(7)
    ]
    await save(uow_factory, owner, *items)
    expected = sorted(items, key=lambda i: (i.created_at, i.id), reverse=True)
    seen: list[Item] = []
    for number in (1, 2, 3):
        page = await item_reader.list(ItemFilter(owner_id=owner.id), PageRequest(number, 3))
        assert page.total == 7
        assert page.has_next is (number < 3)
        seen.extend(page.items)
    past_the_end = await item_reader.list(ItemFilter(owner_id=owner.id), PageRequest(9, 3))
    assert seen == expected
    assert past_the_end.items == []
    assert past_the_end.total == 7


async def test_items_filter_by_owner_and_title(
    uow_factory: UowFactory, item_reader: ItemReader
) -> None:
    alice, bob = make_user("a@example.com"), make_user("b@example.com")
    things = [
        an_item(alice, title="Buy MILK", now=T0),
        an_item(alice, title="bread", now=T0 + timedelta(seconds=1)),
        an_item(alice, title="100% juice_box", now=T0 + timedelta(seconds=2)),
        an_item(bob, title="milk for bob", now=T0 + timedelta(seconds=3)),
    ]
    await save(uow_factory, alice, bob, *things)

    async def titles(where: ItemFilter) -> list[str]:
        return [i.title for i in (await item_reader.list(where, PageRequest(1, 20))).items]

    assert await titles(ItemFilter(owner_id=alice.id, q="milk")) == ["Buy MILK"]
    assert await titles(ItemFilter(q="MiLk")) == ["milk for bob", "Buy MILK"]
    assert await titles(ItemFilter(q="%")) == ["100% juice_box"]
    assert await titles(ItemFilter(q="_")) == ["100% juice_box"]
    assert await titles(ItemFilter(owner_id=uuid.uuid4())) == []
    assert len(await titles(ItemFilter())) == 4


async def test_users_page_and_filters(uow_factory: UowFactory, user_reader: UserReader) -> None:
    root = make_user("root@example.com", now=T0, admin=True)
    alice = make_user("alice@example.com", now=T0 + timedelta(seconds=1))
    gone = dataclasses.replace(
        make_user("gone@example.com", now=T0 + timedelta(seconds=2)), is_active=False
    )
    await save(uow_factory, root, alice, gone)

    async def emails(where: UserFilter, page: PageRequest | None = None) -> list[str]:
        found = await user_reader.list(where, page or PageRequest(1, 20))
        return [u.email.value for u in found.items]

    assert await emails(UserFilter()) == [
        "gone@example.com",
        "alice@example.com",
        "root@example.com",
    ]
    assert await emails(UserFilter(), PageRequest(2, 2)) == ["root@example.com"]
    assert await emails(UserFilter(role=Role.ADMIN)) == ["root@example.com"]
    assert await emails(UserFilter(role=Role.USER, is_active=True)) == [
        "alice@example.com",
        "root@example.com",
    ]
    assert await emails(UserFilter(is_active=False)) == ["gone@example.com"]
    assert await emails(UserFilter(email=Email("ALICE@example.com"))) == ["alice@example.com"]
    assert await emails(UserFilter(email=Email("none@example.com"))) == []
    assert (await user_reader.list(UserFilter(is_active=True), PageRequest(1, 1))).total == 2
