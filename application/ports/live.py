"""Live events: committed item changes carried to the clients connected right now, on
whichever process holds their connection, and kept a while for a client to catch up."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from domain.events import ItemEvent, LiveEvent, SessionsEnded

# At least this many events of each user are kept for replay, and at least this long.
KEPT_EVENTS = 1_000
KEPT_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class Delivery:
    """An item event as one subscriber receives it; ``id`` is its place in the
    subscriber's stream: opaque, increasing, and what a reconnecting client sends back."""

    id: str
    event: ItemEvent


@dataclass(frozen=True, slots=True)
class Reset:
    """The events after the id a client asked for are no longer all kept (or the id is
    not one of ours): the client must reload what it shows, then listen afresh."""


Notice = Delivery | Reset | SessionsEnded


class SubscriberTooSlow(Exception):
    """The subscriber let more events wait than it may: it is dropped, not buffered."""


class Subscription(Protocol):
    async def receive(self) -> Notice:
        """The next notice, in order; raises ``SubscriberTooSlow`` once the subscriber
        fell too far behind."""
        ...

    def close(self) -> None: ...


class EventBus(Protocol):
    """Publishing is idempotent and keeps each item's events in commit order: an event
    already published, or older than one published for the same item, is dropped (it
    may be published once right after the commit and again by its outbox job)."""

    async def publish(self, event: LiveEvent) -> None: ...

    async def subscribe(
        self, user_id: uuid.UUID, *, everyone: bool, after: str | None, capacity: int
    ) -> Subscription:
        """The item events of ``user_id``'s items (``everyone``: of all items) from now
        on, after those since ``after`` (or a ``Reset`` first when they are not all
        kept), and the end of ``user_id``'s sessions. At most ``capacity`` notices wait
        before the subscriber is too slow."""
        ...

    async def close(self) -> None:
        """Release connections and stop reading; the process is stopping."""
        ...


class SocketSlots(Protocol):
    """The cap on one user's open live-event sockets, counted wherever they are open: in
    this process, or across every worker and machine that shares the count."""

    async def take(self, user_id: uuid.UUID) -> str | None:
        """A slot for one more socket of ``user_id``, taken atomically, or ``None`` when the
        user already holds the limit. Raises ``StorageUnavailable`` when the count cannot
        be read: the socket is then refused, never let past the limit."""
        ...

    async def release(self, user_id: uuid.UUID, slot: str) -> None:
        """The socket holding ``slot`` closed. Never raises: a slot that could not be given
        back stops counting once it is no longer renewed."""
        ...

    async def close(self) -> None:
        """Stop renewing and release connections; the process is stopping."""
        ...
