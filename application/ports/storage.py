"""The write side: repositories and stores that change what is kept, inside one unit of
work (one transaction), and the outbox its commit stores events in."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from application.ports.attachments import AttachmentRepository
from application.ports.audit import SecurityEventStore
from application.ports.mfa import SecondFactorStore
from domain.email import Email
from domain.events import Event
from domain.item import Item
from domain.one_time_token import OneTimeToken, TokenPurpose
from domain.personal_token import PersonalToken
from domain.session import RefreshSession
from domain.user import User


class UserRepository(Protocol):
    """Writes are compare-and-set on ``User.version`` and store only the columns that
    changed, so no write can undo what a concurrent one stored."""

    async def get(self, user_id: uuid.UUID, *, for_update: bool = False) -> User | None:
        """``for_update``: the row stays locked until the transaction ends (where the
        database has row locks; SQLite serialises writers instead)."""
        ...

    async def get_by_email(self, email: Email) -> User | None: ...

    async def add(self, user: User) -> None:
        """Store a new user; raises ``EmailAlreadyRegistered`` when the email is taken."""
        ...

    async def update(self, previous: User, changed: User) -> bool:
        """Store the fields in which ``changed`` differs from ``previous`` (the user as read),
        only while the stored version is still ``previous.version``. False, changing
        nothing, when the version has moved on or the user is gone. Raises
        ``EmailAlreadyRegistered`` when a new email is taken."""
        ...

    async def delete(self, user_id: uuid.UUID, *, expected_version: int | None = None) -> bool:
        """Delete the user; with ``expected_version``, only while the stored version is
        still that one. False when nothing was deleted."""
        ...

    async def count_admins(self) -> int:
        """Active users holding the admin role."""
        ...

    async def lock_active_admins(self) -> int:
        """Like ``count_admins``, but the active administrators stay locked until the
        transaction ends, so a concurrent transaction that could remove one waits and then
        counts what this one left. Call it before reading the user about to change."""
        ...

    async def lock_for_deletion(self, user_id: uuid.UUID) -> None:
        """Hold the user's row against every other writer until the transaction ends, the
        addition of an item of theirs included: it waits, then finds its owner gone."""
        ...


class ItemRepository(Protocol):
    """Writes are compare-and-set on ``Item.version``: a change made from a stale read
    stores nothing and says so, instead of overwriting what another transaction wrote."""

    async def get(self, item_id: uuid.UUID, *, for_update: bool = False) -> Item | None:
        """``for_update``: the row stays locked until the transaction ends, so that the
        ``update`` that follows cannot find it changed (where the database has row locks;
        SQLite has none and serialises writers instead)."""
        ...

    async def add(self, item: Item) -> None:
        """Store a new item; raises ``UserNotFound`` when its owner is gone (deleted while
        the item was being created), here or, when the store sends the insert later, at
        the unit of work's next statement or its commit."""
        ...

    async def update(self, item: Item, *, expected_version: int) -> bool:
        """Store the changed fields (``item.version`` included) in one statement, only
        while the stored version is still ``expected_version``, the one the item was read
        at. False, changing nothing, when the version has moved on or the item is gone.
        A store may instead hold the change and send it with the commit (nothing else may
        run in between): then the commit raises ``ChangedMeanwhile``, storing nothing,
        where this would have said False."""
        ...

    async def delete(self, item_id: uuid.UUID, *, expected_version: int | None = None) -> bool:
        """Delete the item; with ``expected_version``, only while the stored version is
        still that one. False when nothing was deleted."""
        ...

    async def delete_owned_by(self, owner_id: uuid.UUID) -> None: ...

    def delete_owned_by_in_chunks(
        self, owner_id: uuid.UUID, size: int
    ) -> AsyncIterator[list[tuple[uuid.UUID, int]]]:
        """Delete the owner's items ``size`` at a time, giving each chunk's ids and last
        versions as it goes: never more than a chunk of them in memory."""
        ...


class SessionStore(Protocol):
    async def start(self, session: RefreshSession, *, sessions_valid_after: datetime) -> bool:
        """Store a new session only while its user is active and their sessions have not
        been ended since the user was read (``sessions_valid_after`` as read then). False,
        storing nothing, otherwise. The user's row stays share-locked until the transaction
        ends: a change that ends the user's sessions waits for this one, then ends it too."""
        ...

    async def get_by_token_hash(self, token_hash: str) -> RefreshSession | None: ...

    async def spend(self, session_id: uuid.UUID, now: datetime) -> bool:
        """Mark a live session spent; False when it already was spent or revoked (so two
        concurrent refreshes with one token cannot both succeed)."""
        ...

    async def revoke_family(
        self, family_id: uuid.UUID, now: datetime, *, of_user: uuid.UUID | None = None
    ) -> int:
        """End every session of the family, including one a concurrent rotation is
        adding: it waits for that rotation to commit, then ends what it stored. How many
        sessions this call ended (0: the family was over already, or, with ``of_user``,
        is not that user's)."""
        ...

    async def revoke_user(self, user_id: uuid.UUID, now: datetime) -> None: ...

    async def delete_expired(self, now: datetime) -> int:
        """Delete the sessions that expired by ``now`` (spent and revoked ones are kept until
        then, so that a replayed refresh token is still recognised); how many."""
        ...


class PersonalTokenStore(Protocol):
    async def add(self, token: PersonalToken) -> None: ...

    async def revoke(self, token_id: uuid.UUID, user_id: uuid.UUID, now: datetime) -> bool:
        """Revoke the user's live token; False when there is none by that id (another
        user's, or revoked already)."""
        ...

    async def touch(self, token_id: uuid.UUID, now: datetime) -> None:
        """Set ``last_used_at`` to ``now`` unless it was set within the last
        ``LAST_USED_PRECISION``: a conditional write, so a burst of requests writes once."""
        ...

    async def delete_ended_before(self, cutoff: datetime, limit: int) -> int:
        """Delete up to ``limit`` tokens that expired or were revoked before ``cutoff``;
        how many went."""
        ...


class OneTimeTokenStore(Protocol):
    async def add(self, token: OneTimeToken) -> None: ...

    async def get_by_token_hash(self, token_hash: str) -> OneTimeToken | None: ...

    async def use(self, token_id: uuid.UUID, now: datetime) -> bool:
        """Mark an unused, unexpired token used; False when it was not (so a token works
        once even when two requests present it at the same moment)."""
        ...

    async def use_all(self, user_id: uuid.UUID, purpose: TokenPurpose, now: datetime) -> None:
        """Mark every unused token of the user for ``purpose`` used."""
        ...

    async def delete_expired(self, now: datetime) -> int:
        """Delete the tokens that expired by ``now``, used or not; how many."""
        ...


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """An event waiting to be handed to the job queue: its kind and its fields as stored
    (JSON), and the trace context of the request that made it (W3C ``traceparent``), when
    it was traced."""

    id: uuid.UUID
    kind: str
    payload: str
    traceparent: str | None = None


class OutboxStore(Protocol):
    """The events committed with the changes that caused them, until they are handed to the
    job queue."""

    async def add(self, entries: Sequence[tuple[str, str]], now: datetime) -> None:
        """Store ``(kind, payload)`` entries, in one statement."""
        ...

    async def take(self, limit: int) -> list[OutboxEntry]:
        """Remove and return up to ``limit`` entries, oldest first; concurrent takes never
        return the same entry. They are gone once the transaction commits."""
        ...


class UnitOfWork(Protocol):
    """One transaction. ``async with uow:`` rolls back unless ``commit()`` was awaited.
    Events ``emit``ted are stored in the outbox by the commit, with the changes: a change
    that is rolled back causes nothing. Reads that change nothing take the read side
    (``application.ports.reads``) instead."""

    users: UserRepository
    items: ItemRepository
    sessions: SessionStore
    personal_tokens: PersonalTokenStore
    one_time_tokens: OneTimeTokenStore
    outbox: OutboxStore
    security_events: SecurityEventStore
    attachments: AttachmentRepository
    second_factor: SecondFactorStore

    def emit(self, event: Event) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


class EventRecorder(Protocol):
    """Events that come with no change (a request that only asks for something to happen
    later): stored in the outbox by one statement, atomic on its own, with no transaction
    around it."""

    async def record(self, *events: Event) -> None:
        """Store the events, in the order given; raises ``RuntimeError`` when given none
        (nothing to record is a mistake of the caller's)."""
        ...
