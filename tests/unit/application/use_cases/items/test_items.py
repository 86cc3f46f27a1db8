"""Items use cases over the memory adapters, through the container."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from adapters.memory.store import InMemoryStore
from application.changes import ItemChanges
from application.use_cases.items.create_item import CreateItemCommand
from application.use_cases.items.delete_item import DeleteItemCommand
from application.use_cases.items.get_item import GetItemCommand
from application.use_cases.items.list_items import ListItemsCommand
from application.use_cases.items.update_item import UpdateItemCommand
from domain.errors import (
    PermissionDenied,
    ValidationFailed,
)
from domain.item import ItemNotFound
from domain.pagination import PageRequest
from entrypoints.container import Container
from tests.support.accounts import account
from tests.support.clock import FixedClock


async def test_items_belong_to_their_owner(container: Container, store: InMemoryStore) -> None:
    alice = await account(container, "alice@example.com")
    bob = await account(container, "bob@example.com")
    item = await container.create_item().execute(
        CreateItemCommand(actor=alice, title=" Buy milk ", description="two litres")
    )
    assert (item.owner_id, item.title) == (alice.id, "Buy milk")
    with pytest.raises(ItemNotFound):
        await container.get_item().execute(GetItemCommand(actor=bob, item_id=item.id))
    with pytest.raises(ItemNotFound):
        await container.update_item().execute(
            UpdateItemCommand(actor=bob, item_id=item.id, changes=ItemChanges(title="stolen"))
        )
    with pytest.raises(ItemNotFound):
        await container.delete_item().execute(DeleteItemCommand(actor=bob, item_id=item.id))
    assert store.items[item.id].title == "Buy milk"
    with pytest.raises(ItemNotFound):
        await container.get_item().execute(GetItemCommand(actor=alice, item_id=uuid.uuid4()))


async def test_item_update_is_partial(container: Container, clock: FixedClock) -> None:
    alice = await account(container, "alice@example.com")
    item = await container.create_item().execute(
        CreateItemCommand(actor=alice, title="title", description="description")
    )
    clock.advance(timedelta(seconds=5))
    retitled = await container.update_item().execute(
        UpdateItemCommand(actor=alice, item_id=item.id, changes=ItemChanges(title="new"))
    )
    assert (retitled.title, retitled.description) == ("new", "description")
    assert retitled.updated_at == clock.now()
    cleared = await container.update_item().execute(
        UpdateItemCommand(actor=alice, item_id=item.id, changes=ItemChanges(description=None))
    )
    assert (cleared.title, cleared.description) == ("new", None)
    with pytest.raises(ValidationFailed):
        await container.update_item().execute(
            UpdateItemCommand(actor=alice, item_id=item.id, changes=ItemChanges(title="  "))
        )
    assert (
        await container.get_item().execute(GetItemCommand(actor=alice, item_id=item.id))
    ).title == "new"


async def test_item_listing_scope_and_search(container: Container, clock: FixedClock) -> None:
    admin = await account(container, "root@example.com", admin=True)
    alice = await account(container, "alice@example.com")
    bob = await account(container, "bob@example.com")
    for title in ("Milk", "Bread", "milkshake"):
        clock.advance(timedelta(seconds=1))
        await container.create_item().execute(
            CreateItemCommand(actor=alice, title=title, description=None)
        )
    await container.create_item().execute(
        CreateItemCommand(actor=bob, title="Bob's milk", description=None)
    )

    own = await container.list_items().execute(ListItemsCommand(actor=alice, page=PageRequest()))
    assert [i.title for i in own.items] == ["milkshake", "Bread", "Milk"]
    found = await container.list_items().execute(
        ListItemsCommand(actor=alice, page=PageRequest(), q="MILK")
    )
    assert [i.title for i in found.items] == ["milkshake", "Milk"]
    assert (
        await container.list_items().execute(ListItemsCommand(actor=admin, page=PageRequest()))
    ).total == 4
    bobs = await container.list_items().execute(
        ListItemsCommand(actor=admin, page=PageRequest(), owner_id=bob.id)
    )
    assert [i.owner_id for i in bobs.items] == [bob.id]
    with pytest.raises(PermissionDenied):
        await container.list_items().execute(
            ListItemsCommand(actor=alice, page=PageRequest(), owner_id=bob.id)
        )
