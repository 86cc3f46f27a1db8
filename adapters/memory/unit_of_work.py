from __future__ import annotations

from types import TracebackType
from typing import Self

from adapters.memory.repositories import (
    InMemoryItemRepository,
    InMemoryOneTimeTokenStore,
    InMemorySessionStore,
    InMemoryUserRepository,
    Staged,
)
from adapters.memory.store import InMemoryStore
from domain.item import Item
from domain.one_time_token import OneTimeToken
from domain.session import RefreshSession
from domain.user import User


class InMemoryUnitOfWork:
    """Changes are staged per transaction and reach the store only on commit."""

    def __init__(self, store: InMemoryStore, *, read_only: bool = False) -> None:
        self._store = store
        self._read_only = read_only
        self.committed = False

    async def __aenter__(self) -> Self:
        self._users: Staged[User] = Staged(self._store.users)
        self._items: Staged[Item] = Staged(self._store.items)
        self._sessions: Staged[RefreshSession] = Staged(self._store.sessions)
        self.users = InMemoryUserRepository(self._users, self._sessions)
        self.items = InMemoryItemRepository(self._items)
        self.sessions = InMemorySessionStore(self._sessions, self._users)
        self._tokens: Staged[OneTimeToken] = Staged(self._store.one_time_tokens)
        self.one_time_tokens = InMemoryOneTimeTokenStore(self._tokens)
        self.committed = False
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.rollback()

    async def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        self._users.apply()
        self._items.apply()
        self._sessions.apply()
        self._tokens.apply()
        self.committed = True

    async def rollback(self) -> None:
        self._users.discard()
        self._items.discard()
        self._sessions.discard()
        self._tokens.discard()
