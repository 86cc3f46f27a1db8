"""Item changes record their live events in the outbox with the change, and publish them
right after the commit; a change that is rolled back records and publishes nothing."""

from __future__ import annotations

import uuid

import pytest

from adapters.memory.store import InMemoryStore
from application.changes import ItemChanges
from application.outbox import decode
from application.ports import Delivery, EventBus
from application.use_cases.items.create_item import CreateItemCommand
from application.use_cases.items.delete_item import DeleteItemCommand
from application.use_cases.items.update_item import UpdateItemCommand
from domain.events import ItemCreated, ItemDeleted, ItemUpdated
from domain.item import ItemChanged
from entrypoints.container import Container
from tests.support.accounts import account


def _outbox(store: InMemoryStore) -> list[object]:
    return [decode(entry.kind, entry.payload) for entry in store.outbox.values()]


async def test_each_change_of_an_item_is_in_the_outbox_with_its_version(
    container: Container, store: InMemoryStore
) -> None:
    alice = await account(container, "alice@example.com")
    store.outbox.clear()
    item = await container.create_item().execute(
        CreateItemCommand(actor=alice, title="milk", description="two")
    )
    await container.update_item().execute(
        UpdateItemCommand(actor=alice, item_id=item.id, changes=ItemChanges(title="oat milk"))
    )
    await container.delete_item().execute(DeleteItemCommand(actor=alice, item_id=item.id))

    events = _outbox(store)
    assert [type(e) for e in events] == [ItemCreated, ItemUpdated, ItemDeleted]
    created, updated, deleted = events
    assert isinstance(created, ItemCreated)
    assert isinstance(updated, ItemUpdated)
    assert (created.item_id, created.owner_id, created.version, created.title) == (
        item.id,
        alice.id,
        1,
        "milk",
    )
    assert (updated.version, updated.title, updated.description) == (2, "oat milk", "two")
    assert isinstance(deleted, ItemDeleted)
    assert (deleted.item_id, deleted.version) == (item.id, 2)


async def test_a_refused_change_records_and_publishes_nothing(
    container: Container, store: InMemoryStore
) -> None:
    alice = await account(container, "alice@example.com")
    bus: EventBus = container.event_bus()
    subscription = await bus.subscribe(alice.id, everyone=False, after=None, capacity=10)
    item = await container.create_item().execute(CreateItemCommand(actor=alice, title="milk"))
    created = await subscription.receive()
    assert isinstance(created, Delivery)
    assert isinstance(created.event, ItemCreated)
    store.outbox.clear()

    with pytest.raises(ItemChanged):
        await container.update_item().execute(
            UpdateItemCommand(
                actor=alice,
                item_id=item.id,
                changes=ItemChanges(title="x"),
                expected_versions=[7],
            )
        )
    with pytest.raises(ItemChanged):
        await container.delete_item().execute(
            DeleteItemCommand(actor=alice, item_id=item.id, expected_versions=[7])
        )
    assert _outbox(store) == []
    await container.update_item().execute(
        UpdateItemCommand(actor=alice, item_id=item.id, changes=ItemChanges(title="y"))
    )
    # The first notice is the change that was committed: nothing of the refused ones.
    notice = await subscription.receive()
    assert isinstance(notice, Delivery)
    assert isinstance(notice.event, ItemUpdated)
    assert (notice.event.version, notice.event.title) == (2, "y")


async def test_the_outbox_job_publishes_what_the_quick_publication_missed(
    container: Container, store: InMemoryStore
) -> None:
    alice = await account(container, "alice@example.com")
    bus: EventBus = container.event_bus()
    subscription = await bus.subscribe(alice.id, everyone=False, after=None, capacity=10)
    handler = container.publish_live_event()
    event = ItemCreated(uuid.uuid4(), alice.id, 1, "t", None, "2026-01-01T00:00:00Z", "x")
    await handler(event)
    await handler(event)  # a job run twice: delivered once
    first = await subscription.receive()
    assert isinstance(first, Delivery)
    assert first.event == event
    second = ItemUpdated(event.item_id, alice.id, 2, "u", None, "a", "b")
    await handler(second)
    notice = await subscription.receive()
    assert isinstance(notice, Delivery)
    assert notice.event == second
