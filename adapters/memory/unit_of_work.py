from __future__ import annotations

from types import TracebackType
from typing import Self

from adapters.memory.repositories import InMemoryUserRepository
from adapters.memory.store import InMemoryStore


class InMemoryUnitOfWork:
    """Changes are staged per transaction and reach the store only on commit."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store
        self.committed = False

    async def __aenter__(self) -> Self:
        self.users = InMemoryUserRepository(self._store.users)
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
        self._store.users.update(self.users.pending)
        self.users.pending = {}
        self.committed = True

    async def rollback(self) -> None:
        self.users.pending = {}
