"""The ports kept in dictionaries: for fast tests, never for anything users depend on."""

from __future__ import annotations

import copy
import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import datetime
from typing import Generic, TypeVar

from domain.email import Email
from domain.errors import EmailAlreadyRegistered
from domain.item import Item
from domain.one_time_token import OneTimeToken, TokenPurpose
from domain.pagination import COUNT_CAP, Page, PageRequest
from domain.session import RefreshSession
from domain.user import User

E = TypeVar("E", User, Item, RefreshSession, OneTimeToken)


class Staged(Generic[E]):
    """One transaction's view of a table: the committed rows, plus its own writes and
    deletions, which reach the committed rows only when ``apply`` is called."""

    def __init__(self, committed: dict[uuid.UUID, E]) -> None:
        self.committed: dict[uuid.UUID, E] = committed
        self.written: dict[uuid.UUID, E] = {}
        self.deleted: set[uuid.UUID] = set()

    def rows(self) -> Iterable[E]:
        for key, row in {**self.committed, **self.written}.items():
            if key not in self.deleted:
                yield row

    def get(self, key: uuid.UUID) -> E | None:
        if key in self.deleted:
            return None
        row = self.written.get(key) or self.committed.get(key)
        return copy.copy(row) if row is not None else None

    def put(self, key: uuid.UUID, row: E) -> None:
        self.deleted.discard(key)
        self.written[key] = copy.copy(row)

    def delete(self, key: uuid.UUID) -> None:
        self.written.pop(key, None)
        self.deleted.add(key)

    def apply(self) -> None:
        self.committed.update(self.written)
        for key in self.deleted:
            self.committed.pop(key, None)
        self.discard()

    def discard(self) -> None:
        self.written, self.deleted = {}, set()

    def page(self, keep: Callable[[E], bool], request: PageRequest) -> Page[E]:
        after = request.after
        matching = sorted(
            (row for row in self.rows() if keep(row)),
            key=lambda row: (row.created_at, row.id),
            reverse=True,
        )
        counted = min(len(matching), COUNT_CAP + 1) if request.count else None
        if after is not None:
            matching = [r for r in matching if (r.created_at, r.id) < (after.at, after.id)]
        window = matching[request.offset : request.offset + request.limit]
        return Page.of_rows([copy.copy(r) for r in window], counted, request)


class InMemoryUserRepository:
    def __init__(self, table: Staged[User]) -> None:
        self._table = table

    async def get(self, user_id: uuid.UUID, *, for_update: bool = False) -> User | None:
        # One event loop, and no await between this read and the commit: nothing to lock.
        return self._table.get(user_id)

    async def get_by_email(self, email: Email) -> User | None:
        found = next((u for u in self._table.rows() if u.email == email), None)
        return copy.copy(found) if found else None

    async def add(self, user: User) -> None:
        if any(u.email == user.email for u in self._table.rows()):
            raise EmailAlreadyRegistered()
        self._table.put(user.id, user)

    async def update(self, previous: User, changed: User) -> bool:
        stored = self._table.get(previous.id)
        if stored is None or stored.version != previous.version:
            return False
        if any(u.email == changed.email and u.id != changed.id for u in self._table.rows()):
            raise EmailAlreadyRegistered()
        # Only the fields that changed: what another writer stored in the others stays.
        for name in (f.name for f in dataclasses.fields(User)):
            if getattr(previous, name) != getattr(changed, name):
                setattr(stored, name, getattr(changed, name))
        self._table.put(stored.id, stored)
        return True

    async def delete(self, user_id: uuid.UUID, *, expected_version: int | None = None) -> bool:
        stored = self._table.get(user_id)
        if stored is None or expected_version not in (None, stored.version):
            return False
        self._table.delete(user_id)
        return True

    async def count_admins(self) -> int:
        return sum(1 for u in self._table.rows() if u.is_active_admin)

    async def lock_for_deletion(self, user_id: uuid.UUID) -> None:
        # One event loop, and no await between the deletion's reads and its commit.
        return None

    async def lock_active_admins(self) -> int:
        # One event loop, and no await between this count and the commit: nothing to lock.
        return await self.count_admins()


class InMemoryItemRepository:
    def __init__(self, table: Staged[Item]) -> None:
        self._table = table

    async def get(self, item_id: uuid.UUID, *, for_update: bool = False) -> Item | None:
        # One event loop, and no await between this read and the commit: nothing to lock.
        return self._table.get(item_id)

    async def add(self, item: Item) -> None:
        self._table.put(item.id, item)

    async def update(self, item: Item, *, expected_version: int) -> bool:
        if not self._at_version(item.id, expected_version):
            return False
        self._table.put(item.id, item)
        return True

    async def delete(self, item_id: uuid.UUID, *, expected_version: int | None = None) -> bool:
        if not self._at_version(item_id, expected_version):
            return False
        self._table.delete(item_id)
        return True

    def _at_version(self, item_id: uuid.UUID, expected_version: int | None) -> bool:
        """The item exists and, when a version is expected, is still at that version (as
        committed by any transaction, or written by this one)."""
        stored = self._table.get(item_id)
        return stored is not None and expected_version in (None, stored.version)

    async def delete_owned_by(self, owner_id: uuid.UUID) -> None:
        for item in list(self._table.rows()):
            if item.owner_id == owner_id:
                self._table.delete(item.id)

    async def delete_owned_by_in_chunks(
        self, owner_id: uuid.UUID, size: int
    ) -> AsyncIterator[list[tuple[uuid.UUID, int]]]:
        while some := [item for item in self._table.rows() if item.owner_id == owner_id][:size]:
            for item in some:
                self._table.delete(item.id)
            yield [(item.id, item.version) for item in some]


class InMemorySessionStore:
    def __init__(self, table: Staged[RefreshSession], users: Staged[User]) -> None:
        self._table = table
        self._users = users

    async def start(self, session: RefreshSession, *, sessions_valid_after: datetime) -> bool:
        user = self._users.get(session.user_id)
        if user is None or not user.is_active or user.sessions_valid_after != sessions_valid_after:
            return False
        self._table.put(session.id, session)
        return True

    async def get_by_token_hash(self, token_hash: str) -> RefreshSession | None:
        found = next((s for s in self._table.rows() if s.token_hash == token_hash), None)
        return copy.copy(found) if found else None

    async def spend(self, session_id: uuid.UUID, now: datetime) -> bool:
        session = self._table.get(session_id)
        if session is None or session.replaced_at or session.revoked_at:
            return False
        session.replaced_at = now
        self._table.put(session.id, session)
        return True

    async def revoke_family(
        self, family_id: uuid.UUID, now: datetime, *, of_user: uuid.UUID | None = None
    ) -> int:
        return self._revoke(
            lambda s: s.family_id == family_id and of_user in (None, s.user_id), now
        )

    async def revoke_user(self, user_id: uuid.UUID, now: datetime) -> None:
        self._revoke(lambda s: s.user_id == user_id, now)

    async def delete_expired(self, now: datetime) -> int:
        return _delete_where(self._table, lambda s: s.expires_at <= now)

    def _revoke(self, which: Callable[[RefreshSession], bool], now: datetime) -> int:
        revoked = 0
        for session in list(self._table.rows()):
            if which(session) and session.revoked_at is None:
                self._table.put(session.id, dataclasses.replace(session, revoked_at=now))
                revoked += 1
        return revoked


class InMemoryOneTimeTokenStore:
    def __init__(self, table: Staged[OneTimeToken]) -> None:
        self._table = table

    async def add(self, token: OneTimeToken) -> None:
        self._table.put(token.id, token)

    async def get_by_token_hash(self, token_hash: str) -> OneTimeToken | None:
        found = next((t for t in self._table.rows() if t.token_hash == token_hash), None)
        return copy.copy(found) if found else None

    async def use(self, token_id: uuid.UUID, now: datetime) -> bool:
        token = self._table.get(token_id)
        if token is None or token.used_at is not None or now >= token.expires_at:
            return False
        self._table.put(token.id, dataclasses.replace(token, used_at=now))
        return True

    async def use_all(self, user_id: uuid.UUID, purpose: TokenPurpose, now: datetime) -> None:
        for token in list(self._table.rows()):
            if token.user_id == user_id and token.purpose is purpose and token.used_at is None:
                self._table.put(token.id, dataclasses.replace(token, used_at=now))

    async def delete_expired(self, now: datetime) -> int:
        return _delete_where(self._table, lambda t: t.expires_at <= now)


def _delete_where(table: Staged[E], which: Callable[[E], bool]) -> int:
    doomed = [row.id for row in table.rows() if which(row)]
    for key in doomed:
        table.delete(key)
    return len(doomed)
