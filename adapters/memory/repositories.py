from __future__ import annotations

import copy
import uuid

from domain.email import Email
from domain.errors import EmailAlreadyRegistered
from domain.user import User


class InMemoryUserRepository:
    """Reads see the committed users plus this transaction's own changes."""

    def __init__(self, committed: dict[uuid.UUID, User]) -> None:
        self._committed = committed
        self.pending: dict[uuid.UUID, User] = {}

    def _visible(self) -> dict[uuid.UUID, User]:
        return {**self._committed, **self.pending}

    async def get(self, user_id: uuid.UUID) -> User | None:
        user = self._visible().get(user_id)
        return copy.copy(user) if user else None

    async def get_by_email(self, email: Email) -> User | None:
        for user in self._visible().values():
            if user.email == email:
                return copy.copy(user)
        return None

    async def add(self, user: User) -> None:
        if any(u.email == user.email for u in self._visible().values()):
            raise EmailAlreadyRegistered()
        self.pending[user.id] = copy.copy(user)

    async def update(self, user: User) -> None:
        if user.id not in self._visible():
            return
        if any(u.email == user.email and u.id != user.id for u in self._visible().values()):
            raise EmailAlreadyRegistered()
        self.pending[user.id] = copy.copy(user)

    async def count_admins(self) -> int:
        return sum(1 for u in self._visible().values() if u.is_admin and u.is_active)
