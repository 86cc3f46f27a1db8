"""What both buses share: the ids of stream entries, and the rule that keeps each item's
events in commit order."""

from __future__ import annotations

from domain.events import ItemCreated, ItemDeleted, ItemEvent

# A deletion is final (an item id never comes back): nothing of the item follows it.
_DELETED = 1 << 62


def order_of(event: ItemEvent) -> int:
    """Increases with each committed change of one item: a creation, each update (one
    version further), the deletion. An event whose order is not above the last published
    one for its item is a repeat (its outbox job after the quick publication) or was
    overtaken (a slower request's publication after a later commit's): dropped."""
    if isinstance(event, ItemDeleted):
        return _DELETED
    return event.version * 2 + (0 if isinstance(event, ItemCreated) else 1)


def parse_id(text: str) -> tuple[int, int] | None:
    """``"<milliseconds or epoch>-<sequence>"``, as Redis Streams spell their ids; ``None``
    for anything else."""
    head, dash, tail = text.partition("-")
    if not dash or not head.isdigit() or not tail.isdigit() or len(text) > 41:
        return None
    return int(head), int(tail)
