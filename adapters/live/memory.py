"""The event bus of one process: the zero-configuration start (SQLite, one worker) and the
tests. Every subscriber must be in the process that publishes."""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict, deque
from dataclasses import dataclass

from adapters.live.fanout import Fanout
from adapters.live.ordering import order_of, parse_id
from application.ports import Delivery, Notice, Reset, Subscription
from application.ports.live import KEPT_EVENTS, KEPT_SECONDS
from domain.events import ItemEvent, LiveEvent, SessionsEnded

# However busy a user is, no more than this many of their events are kept.
MOST_KEPT_EVENTS = 20_000
# Items whose last published order is remembered (to drop repeats and overtaken events).
REMEMBERED_ITEMS = 100_000


@dataclass(frozen=True, slots=True)
class _Entry:
    place: tuple[int, int]
    id: str
    at: float
    event: ItemEvent


class _Stream:
    def __init__(self) -> None:
        self.entries: deque[_Entry] = deque()
        self.trimmed_up_to: tuple[int, int] | None = None

    def append(self, entry: _Entry, now: float) -> None:
        self.entries.append(entry)
        while len(self.entries) > KEPT_EVENTS and (
            self.entries[0].at < now - KEPT_SECONDS or len(self.entries) > MOST_KEPT_EVENTS
        ):
            self.trimmed_up_to = self.entries.popleft().place


class InMemoryEventBus:
    def __init__(self) -> None:
        self._fanout = Fanout()
        # Ids are "<this bus's start in ms>-<sequence>": one from before a restart is not
        # mistaken for one of this bus's.
        self._epoch = time.time_ns() // 1_000_000
        self._sequence = 0
        self._streams: dict[uuid.UUID | None, _Stream] = {}
        self._orders: OrderedDict[uuid.UUID, int] = OrderedDict()

    async def publish(self, event: LiveEvent) -> None:
        if isinstance(event, SessionsEnded):
            self._fanout.sessions_ended(event)
            return
        order = order_of(event)
        if self._orders.get(event.item_id, -1) >= order:
            return
        self._orders[event.item_id] = order
        self._orders.move_to_end(event.item_id)
        if len(self._orders) > REMEMBERED_ITEMS:
            self._orders.popitem(last=False)
        self._sequence += 1
        place = (self._epoch, self._sequence)
        entry = _Entry(place, f"{place[0]}-{place[1]}", time.monotonic(), event)
        for key in (event.owner_id, None):
            self._streams.setdefault(key, _Stream()).append(entry, entry.at)
        self._fanout.item_event(event, entry.id, entry.id)

    async def subscribe(
        self, user_id: uuid.UUID, *, everyone: bool, after: str | None, capacity: int
    ) -> Subscription:
        subscription = self._fanout.add(user_id, everyone=everyone, capacity=capacity)
        subscription.replay(
            [] if after is None else self._since(None if everyone else user_id, after)
        )
        return subscription

    def _since(self, key: uuid.UUID | None, after: str) -> list[Notice]:
        place = parse_id(after)
        newest = (self._epoch, self._sequence)
        if place is None or place[0] != self._epoch or place > newest:
            return [Reset()]
        stream = self._streams.get(key)
        if stream is None:
            return []
        if stream.trimmed_up_to is not None and place < stream.trimmed_up_to:
            return [Reset()]
        return [Delivery(e.id, e.event) for e in stream.entries if e.place > place]

    async def close(self) -> None:
        """Nothing to release."""
