"""Conditional and concurrent item changes, over the memory adapters: a change made on a
stale read never overwrites what another transaction stored."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Self

import pytest
from dependency_injector import providers

from adapters.memory.store import InMemoryStore
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from application.changes import ItemChanges
from application.retries import ATTEMPTS
from application.use_cases.items.create_item import CreateItemCommand
from application.use_cases.items.delete_item import DeleteItemCommand
from application.use_cases.items.update_item import UpdateItemCommand
from domain.errors import ValidationFailed
from domain.item import Item, ItemBusy, ItemChanged, ItemNotFound
from domain.user import User
from entrypoints.container import Container
from tests.support.accounts import account

Race = Callable[[], Awaitable[None]]


class _RacedItems:
    """The item repository of one transaction, with another transaction's write committed
    right after each read, while races are left: a concurrent request getting in between."""

    def __init__(self, inner: Any, races: list[Race]) -> None:
        self._inner = inner
        self._races = races

    async def get(self, item_id: uuid.UUID, *, for_update: bool = False) -> Item | None:
        item = await self._inner.get(item_id, for_update=for_update)
        if self._races:
            await self._races.pop(0)()
        return item

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class RacedUnitOfWork(InMemoryUnitOfWork):
    def __init__(self, store: InMemoryStore, races: list[Race]) -> None:
        super().__init__(store)
        self._races = races

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.items = _RacedItems(self.items, self._races)  # type: ignore[assignment]
        return self


@pytest.fixture
def races(container: Container, store: InMemoryStore) -> list[Race]:
    """Writes to run between a use case's read and its write, one per read."""
    pending: list[Race] = []
    container.unit_of_work.override(providers.Factory(RacedUnitOfWork, store, pending))
    return pending


def concurrent_change(store: InMemoryStore, item_id: uuid.UUID, **fields: Any) -> Race:
    """Another transaction changes ``fields`` of the item and commits."""

    async def change() -> None:
        async with InMemoryUnitOfWork(store) as uow:
            item = await uow.items.get(item_id)
            assert item is not None
            changed = dataclasses.replace(item, **fields, version=item.version + 1)
            assert await uow.items.update(changed, expected_version=item.version)
            await uow.commit()

    return change


@pytest.fixture
async def alice(container: Container) -> User:
    return await account(container, "alice@example.com")


@pytest.fixture
async def item(container: Container, alice: User) -> Item:
    return await container.create_item().execute(
        CreateItemCommand(actor=alice, title="start", description="first")
    )


async def test_a_change_at_the_expected_version_is_made_and_moves_the_version(
    container: Container, store: InMemoryStore, alice: User, item: Item
) -> None:
    assert item.version == 1
    updated = await container.update_item().execute(
        UpdateItemCommand(
            actor=alice,
            item_id=item.id,
            changes=ItemChanges(title="second"),
            expected_versions=frozenset({1}),
        )
    )
    assert (updated.title, updated.version) == ("second", 2)
    assert store.items[item.id] == updated
    updated = await container.update_item().execute(
        UpdateItemCommand(
            actor=alice,
            item_id=item.id,
            changes=ItemChanges(title="third"),
            expected_versions=frozenset({7, 2}),
        )
    )
    assert (store.items[item.id].title, store.items[item.id].version) == ("third", 3)


@pytest.mark.parametrize("expected", [frozenset({2}), frozenset({0, 3}), frozenset()])
async def test_a_change_at_another_version_changes_nothing(
    container: Container, store: InMemoryStore, alice: User, item: Item, expected: frozenset[int]
) -> None:
    with pytest.raises(ItemChanged):
        await container.update_item().execute(
            UpdateItemCommand(
                actor=alice,
                item_id=item.id,
                changes=ItemChanges(title="x"),
                expected_versions=expected,
            )
        )
    assert store.items[item.id] == item


async def test_a_stale_delete_keeps_the_item_and_a_current_one_deletes_it(
    container: Container, store: InMemoryStore, alice: User, item: Item
) -> None:
    await container.update_item().execute(
        UpdateItemCommand(actor=alice, item_id=item.id, changes=ItemChanges(title="second"))
    )
    with pytest.raises(ItemChanged):
        await container.delete_item().execute(
            DeleteItemCommand(actor=alice, item_id=item.id, expected_versions=frozenset({1}))
        )
    assert store.items[item.id].title == "second"
    await container.delete_item().execute(
        DeleteItemCommand(actor=alice, item_id=item.id, expected_versions=frozenset({2}))
    )
    assert item.id not in store.items


async def test_not_found_and_not_yours_come_before_the_precondition(
    container: Container, store: InMemoryStore, alice: User, item: Item
) -> None:
    bob = await account(container, "bob@example.com")
    stale = frozenset({9})
    for actor, item_id in [(alice, uuid.uuid4()), (bob, item.id)]:
        with pytest.raises(ItemNotFound):
            await container.update_item().execute(
                UpdateItemCommand(
                    actor=actor,
                    item_id=item_id,
                    changes=ItemChanges(title="x"),
                    expected_versions=stale,
                )
            )
        with pytest.raises(ItemNotFound):
            await container.delete_item().execute(
                DeleteItemCommand(actor=actor, item_id=item_id, expected_versions=stale)
            )
    admin = await account(container, "root@example.com", admin=True)
    with pytest.raises(ItemChanged):
        await container.delete_item().execute(
            DeleteItemCommand(actor=admin, item_id=item.id, expected_versions=stale)
        )
    assert store.items[item.id] == item


async def test_invalid_input_is_refused_before_the_precondition(
    container: Container, store: InMemoryStore, alice: User, item: Item
) -> None:
    with pytest.raises(ValidationFailed):
        await container.update_item().execute(
            UpdateItemCommand(
                actor=alice,
                item_id=item.id,
                changes=ItemChanges(description="bell \u0007"),
                expected_versions=frozenset({9}),
            )
        )
    assert store.items[item.id] == item


async def test_a_conditional_change_that_loses_a_race_changes_nothing(
    container: Container, store: InMemoryStore, alice: User, item: Item, races: list[Race]
) -> None:
    races.append(concurrent_change(store, item.id, description="theirs"))
    with pytest.raises(ItemChanged):
        await container.update_item().execute(
            UpdateItemCommand(
                actor=alice,
                item_id=item.id,
                changes=ItemChanges(title="mine"),
                expected_versions=frozenset({1}),
            )
        )
    stored = store.items[item.id]
    assert (stored.title, stored.description, stored.version) == ("start", "theirs", 2)


async def test_a_conditional_delete_that_loses_a_race_keeps_the_item(
    container: Container, store: InMemoryStore, alice: User, item: Item, races: list[Race]
) -> None:
    races.append(concurrent_change(store, item.id, title="theirs"))
    with pytest.raises(ItemChanged):
        await container.delete_item().execute(
            DeleteItemCommand(actor=alice, item_id=item.id, expected_versions=frozenset({1}))
        )
    assert store.items[item.id].title == "theirs"


async def test_an_unconditional_delete_is_made_whatever_the_version(
    container: Container, store: InMemoryStore, alice: User, item: Item, races: list[Race]
) -> None:
    races.append(concurrent_change(store, item.id, title="theirs"))
    await container.delete_item().execute(DeleteItemCommand(actor=alice, item_id=item.id))
    assert item.id not in store.items


async def test_an_unconditional_change_racing_another_field_keeps_both(
    container: Container, store: InMemoryStore, alice: User, item: Item, races: list[Race]
) -> None:
    races.append(concurrent_change(store, item.id, description="theirs"))
    updated = await container.update_item().execute(
        UpdateItemCommand(actor=alice, item_id=item.id, changes=ItemChanges(title="mine"))
    )
    stored = store.items[item.id]
    assert stored == updated
    assert (stored.title, stored.description, stored.version) == ("mine", "theirs", 3)


async def test_a_change_accepting_several_versions_is_made_again_on_the_newer_one(
    container: Container, store: InMemoryStore, alice: User, item: Item, races: list[Race]
) -> None:
    races.append(concurrent_change(store, item.id, description="theirs"))
    await container.update_item().execute(
        UpdateItemCommand(
            actor=alice,
            item_id=item.id,
            changes=ItemChanges(title="mine"),
            expected_versions=frozenset({1, 2}),
        )
    )
    stored = store.items[item.id]
    assert (stored.title, stored.description, stored.version) == ("mine", "theirs", 3)


async def test_an_unconditional_change_is_tried_a_bounded_number_of_times(
    container: Container, store: InMemoryStore, alice: User, item: Item, races: list[Race]
) -> None:
    # The memory adapter has no row lock: a race after every read defeats every attempt.
    races.extend(concurrent_change(store, item.id, description=f"theirs {n}") for n in range(9))
    with pytest.raises(ItemBusy):
        await container.update_item().execute(
            UpdateItemCommand(actor=alice, item_id=item.id, changes=ItemChanges(title="mine"))
        )
    assert len(races) == 9 - ATTEMPTS
    stored = store.items[item.id]
    assert (stored.title, stored.version) == ("start", 1 + ATTEMPTS)

    races.clear()
    races.extend(concurrent_change(store, item.id, description="last") for _ in range(ATTEMPTS - 1))
    await container.update_item().execute(
        UpdateItemCommand(actor=alice, item_id=item.id, changes=ItemChanges(title="mine"))
    )
    stored = store.items[item.id]
    assert (stored.title, stored.description) == ("mine", "last")
