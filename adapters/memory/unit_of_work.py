from __future__ import annotations

from datetime import UTC, datetime
from types import TracebackType
from typing import Self

from adapters.memory.attachments import InMemoryAttachmentRepository
from adapters.memory.credentials import InMemoryPersonalTokenStore
from adapters.memory.outbox import InMemoryOutboxStore
from adapters.memory.repositories import (
    InMemoryItemRepository,
    InMemoryOneTimeTokenStore,
    InMemorySessionStore,
    InMemoryUserRepository,
    Staged,
)
from adapters.memory.second_factor import InMemorySecondFactorStore
from adapters.memory.security_events import InMemorySecurityEventStore
from adapters.memory.store import InMemoryStore
from application.outbox import encode
from application.ports import Clock
from domain.events import Event
from domain.item import Item
from domain.one_time_token import OneTimeToken
from domain.session import RefreshSession
from domain.user import User


class InMemoryUnitOfWork:
    """Changes are staged per transaction and reach the store only on commit."""

    def __init__(self, store: InMemoryStore, *, clock: Clock | None = None) -> None:
        self._store = store
        self._now = clock.now if clock is not None else _utc_now
        self.committed = False
        self._events: list[Event] = []

    async def __aenter__(self) -> Self:
        self._users: Staged[User] = Staged(self._store.users)
        self._items: Staged[Item] = Staged(self._store.items)
        self._sessions: Staged[RefreshSession] = Staged(self._store.sessions)
        self.users = InMemoryUserRepository(self._users)
        self.items = InMemoryItemRepository(self._items)
        self.sessions = InMemorySessionStore(self._sessions, self._users)
        self.personal_tokens = InMemoryPersonalTokenStore(self._store.personal_tokens)
        self._tokens: Staged[OneTimeToken] = Staged(self._store.one_time_tokens)
        self.one_time_tokens = InMemoryOneTimeTokenStore(self._tokens)
        self.outbox = InMemoryOutboxStore(self._store.outbox)
        self.security_events = InMemorySecurityEventStore(self._store.security_events)
        self.attachments = InMemoryAttachmentRepository(self._store, self._items)
        self.second_factor = InMemorySecondFactorStore(
            self._store.totp_credentials, self._store.recovery_codes
        )
        self.committed = False
        self._events = []
        return self

    def emit(self, event: Event) -> None:
        self._events.append(event)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.rollback()

    async def commit(self) -> None:
        self._users.apply()
        self._items.apply()
        self._sessions.apply()
        self.personal_tokens.apply()
        self._tokens.apply()
        self.outbox.commit()
        self.security_events.commit()
        self.attachments.commit()
        self.second_factor.commit()
        events, self._events = self._events, []
        if events:
            await self.outbox.add([encode(event) for event in events], self._now())
        self.committed = True

    async def rollback(self) -> None:
        self._users.discard()
        self._items.discard()
        self._sessions.discard()
        self.personal_tokens.discard()
        self._tokens.discard()
        self.outbox.rollback()
        self.security_events.rollback()
        self.attachments.rollback()
        self.second_factor.rollback()
        self._events = []


def _utc_now() -> datetime:
    return datetime.now(UTC)
