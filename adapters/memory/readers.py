"""The read side and the event recorder in dictionaries: what is committed, for the fast
tests."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from adapters.memory.outbox import InMemoryOutboxStore
from adapters.memory.repositories import Staged
from adapters.memory.store import InMemoryStore
from application.outbox import encode
from application.ports import Clock, ItemFilter, UserFilter
from domain.email import Email
from domain.events import Event
from domain.item import Item
from domain.pagination import COUNT_CAP, Page, PageRequest
from domain.user import User


class InMemoryUserReader:
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    async def get(self, user_id: uuid.UUID) -> User | None:
        return Staged(self._store.users).get(user_id)

    async def get_signed_in(self, user_id: uuid.UUID, session_id: uuid.UUID) -> User | None:
        live = any(
            s.family_id == session_id and s.user_id == user_id and s.revoked_at is None
            for s in self._store.sessions.values()
        )
        return await self.get(user_id) if live else None

    async def get_by_email(self, email: Email) -> User | None:
        found = next((u for u in self._store.users.values() if u.email == email), None)
        return await self.get(found.id) if found else None

    async def list(self, where: UserFilter, page: PageRequest) -> Page[User]:
        def keep(user: User) -> bool:
            return (
                (where.email is None or user.email == where.email)
                and (where.is_active is None or user.is_active == where.is_active)
                and (where.role is None or where.role in user.roles)
            )

        return Staged(self._store.users).page(keep, page)


class InMemoryItemReader:
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    async def get(self, item_id: uuid.UUID) -> Item | None:
        return Staged(self._store.items).get(item_id)

    async def list(self, where: ItemFilter, page: PageRequest) -> Page[Item]:
        return Staged(self._store.items).page(_matching(where), page)

    async def count(self, where: ItemFilter) -> int:
        keep = _matching(where)
        found = sum(1 for item in Staged(self._store.items).rows() if keep(item))
        return min(found, COUNT_CAP + 1)


def _matching(where: ItemFilter) -> Callable[[Item], bool]:
    needle = where.q.casefold() if where.q else None

    def keep(item: Item) -> bool:
        return (where.owner_id is None or item.owner_id == where.owner_id) and (
            needle is None or needle in item.title.casefold()
        )

    return keep


class InMemoryEventRecorder:
    def __init__(
        self,
        store: InMemoryStore,
        *,
        clock: Clock | None = None,
        on_events: Callable[[], object] | None = None,
    ) -> None:
        self._outbox = InMemoryOutboxStore(store.outbox)
        self._now = clock.now if clock is not None else _utc_now
        self._on_events = on_events

    async def record(self, *events: Event) -> None:
        if not events:
            raise RuntimeError("nothing to record")
        await self._outbox.add([encode(event) for event in events], self._now())
        if self._on_events is not None:
            self._on_events()


def _utc_now() -> datetime:
    return datetime.now(UTC)
