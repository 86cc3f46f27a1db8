"""The subscribers connected to this process, and each one's bounded queue."""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from collections.abc import Iterable

from adapters.live.ordering import parse_id
from application.ports import Delivery, Notice, SubscriberTooSlow
from domain.events import ItemEvent, SessionsEnded


class LocalSubscription:
    def __init__(self, fanout: Fanout, user_id: uuid.UUID, everyone: bool, capacity: int) -> None:
        self.user_id = user_id
        self.everyone = everyone
        self._fanout = fanout
        self._capacity = capacity
        self._replay: deque[Notice] = deque()
        self._live: deque[Notice] = deque()
        self._ready = asyncio.Event()
        self._too_slow = False
        # Live events at or below this id were in the replay already.
        self._floor: tuple[int, int] | None = None

    def replay(self, notices: Iterable[Notice]) -> None:
        """What was missed, before anything live; not counted against the capacity (it is
        bounded by what the bus keeps)."""
        for notice in notices:
            self._replay.append(notice)
            if isinstance(notice, Delivery):
                self._floor = parse_id(notice.id)
        self._live = deque(n for n in self._live if not self._replayed(n))
        self._ready.set()

    def offer(self, notice: Notice) -> None:
        if self._too_slow or self._replayed(notice):
            return
        if len(self._live) >= self._capacity and not isinstance(notice, SessionsEnded):
            self._too_slow = True
            self._live.clear()
        else:
            self._live.append(notice)
        self._ready.set()

    def _replayed(self, notice: Notice) -> bool:
        if self._floor is None or not isinstance(notice, Delivery):
            return False
        place = parse_id(notice.id)
        return place is not None and place <= self._floor

    async def receive(self) -> Notice:
        while True:
            if self._replay:
                return self._replay.popleft()
            if self._too_slow:
                raise SubscriberTooSlow()
            if self._live:
                return self._live.popleft()
            self._ready.clear()
            await self._ready.wait()

    def close(self) -> None:
        self._fanout.remove(self)


class Fanout:
    def __init__(self) -> None:
        self._by_user: dict[uuid.UUID, set[LocalSubscription]] = {}
        self._everyone: set[LocalSubscription] = set()

    def add(self, user_id: uuid.UUID, *, everyone: bool, capacity: int) -> LocalSubscription:
        subscription = LocalSubscription(self, user_id, everyone, capacity)
        self._by_user.setdefault(user_id, set()).add(subscription)
        if everyone:
            self._everyone.add(subscription)
        return subscription

    def remove(self, subscription: LocalSubscription) -> None:
        mine = self._by_user.get(subscription.user_id)
        if mine is not None:
            mine.discard(subscription)
            if not mine:
                del self._by_user[subscription.user_id]
        self._everyone.discard(subscription)

    @property
    def listening(self) -> bool:
        return bool(self._by_user)

    def item_event(self, event: ItemEvent, owner_stream_id: str, everyone_stream_id: str) -> None:
        for subscription in list(self._by_user.get(event.owner_id, ())):
            if not subscription.everyone:
                subscription.offer(Delivery(owner_stream_id, event))
        for subscription in list(self._everyone):
            subscription.offer(Delivery(everyone_stream_id, event))

    def sessions_ended(self, event: SessionsEnded) -> None:
        for subscription in list(self._by_user.get(event.user_id, ())):
            subscription.offer(event)
