"""Ports: what the use cases need from the outside world, as protocols the adapters implement."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from application.mail import Mail
from domain.email import Email
from domain.events import Event
from domain.item import Item
from domain.one_time_token import OneTimeToken, TokenPurpose
from domain.pagination import Page, PageRequest
from domain.role import Role
from domain.session import RefreshSession
from domain.user import User


@dataclass(frozen=True, slots=True)
class UserFilter:
    email: Email | None = None
    is_active: bool | None = None
    role: Role | None = None


@dataclass(frozen=True, slots=True)
class ItemFilter:
    """``owner_id`` None: everyone's items. ``q``: a case-insensitive part of the title."""

    owner_id: uuid.UUID | None = None
    q: str | None = None


class UserRepository(Protocol):
    """Writes are compare-and-set on ``User.version`` and store only the columns that
    changed, so no write can undo what a concurrent one stored."""

    async def get(self, user_id: uuid.UUID, *, for_update: bool = False) -> User | None:
        """``for_update``: the row stays locked until the transaction ends (where the
        database has row locks; SQLite serialises writers instead)."""
        ...

    async def get_signed_in(self, user_id: uuid.UUID, session_id: uuid.UUID) -> User | None:
        """The user, in one read with the check that the session ``session_id`` of that
        user has not ended; None when either is not so."""
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

    async def list(self, where: UserFilter, page: PageRequest) -> Page[User]:
        """Newest first (ties by id), at most one page of rows loaded."""
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
        the item was being created)."""
        ...

    async def update(self, item: Item, *, expected_version: int) -> bool:
        """Store the changed fields (``item.version`` included) in one statement, only
        while the stored version is still ``expected_version``, the one the item was read
        at. False, changing nothing, when the version has moved on or the item is gone."""
        ...

    async def delete(self, item_id: uuid.UUID, *, expected_version: int | None = None) -> bool:
        """Delete the item; with ``expected_version``, only while the stored version is
        still that one. False when nothing was deleted."""
        ...

    async def delete_owned_by(self, owner_id: uuid.UUID) -> None: ...

    async def list(self, where: ItemFilter, page: PageRequest) -> Page[Item]:
        """Newest first (ties by id), at most one page of rows loaded."""
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

    async def revoke_family(self, family_id: uuid.UUID, now: datetime) -> None:
        """End every session of the family, including one a concurrent rotation is
        adding: it waits for that rotation to commit, then ends what it stored."""
        ...

    async def revoke_user(self, user_id: uuid.UUID, now: datetime) -> None: ...

    async def delete_expired(self, now: datetime) -> int:
        """Delete the sessions that expired by ``now`` (spent and revoked ones are kept until
        then, so that a replayed refresh token is still recognised); how many."""
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
    (JSON)."""

    id: uuid.UUID
    kind: str
    payload: str


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
    that is rolled back causes nothing. A read-only unit of work may commit events and
    nothing else: they are stored by one statement, atomic on its own."""

    users: UserRepository
    items: ItemRepository
    sessions: SessionStore
    one_time_tokens: OneTimeTokenStore
    outbox: OutboxStore

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
    def __call__(self, *, read_only: bool = False) -> UnitOfWork:
        """A new unit of work. ``read_only`` work only reads: its statements run without a
        transaction around them, each seeing what was committed when it ran (as they
        would at READ COMMITTED anyway), and it must not write; its commit stores the
        events it emitted, if any, in one statement."""
        ...


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str: ...

    async def verify(self, hashed: str, password: str) -> bool:
        """True when ``password`` matches; never raises for a mismatch or a malformed hash."""
        ...

    def needs_rehash(self, hashed: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """``session_id``: the session (refresh-token family) an access token belongs to;
    None in a refresh token, which is looked up by itself."""

    user_id: uuid.UUID
    issued_at: datetime
    token_id: str
    session_id: uuid.UUID | None = None


class TokenService(Protocol):
    def issue_access(
        self, user_id: uuid.UUID, roles: frozenset[Role], session_id: uuid.UUID
    ) -> IssuedToken: ...

    def issue_refresh(self, user_id: uuid.UUID) -> IssuedToken: ...

    def decode_access(self, token: str) -> AccessClaims:
        """Return the checked claims; raise ``AuthenticationFailed`` for any bad token."""
        ...

    def decode_refresh(self, token: str) -> AccessClaims:
        """The same checks, for a refresh token; an access token is refused here."""
        ...


class RateLimiter(Protocol):
    """Attempts per key against one limit: so many in a window that starts with the key's
    first attempt. Counting comes first and is atomic, so of any number of concurrent
    attempts on a key no more than the limit are allowed. Shared by every worker and
    machine when the adapter is (Redis), per process otherwise. A store that cannot be
    reached raises ``StorageUnavailable``: never an unlimited door."""

    async def hit(self, key: str) -> int | None:
        """Count one attempt: None when it is within the limit, otherwise the seconds until
        the key may try again (an attempt over the limit is counted all the same)."""
        ...

    async def give_back(self, key: str) -> None:
        """Uncount one attempt this caller counted and that turned out not to be one (it
        succeeded, or was never evaluated)."""
        ...

    async def reset(self, key: str) -> None:
        """Forget every attempt of the key."""
        ...


class CommonPasswords(Protocol):
    def contains(self, password: str) -> bool: ...


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class EmailSender(Protocol):
    async def send(self, mail: Mail) -> None:
        """Hand the mail to the mail server; raise ``MailDeliveryFailed`` when that fails."""
        ...


class HealthProbe(Protocol):
    async def check(self) -> None:
        """Return when the dependency answers; raise ``StorageUnavailable`` otherwise."""
        ...


@dataclass(frozen=True, slots=True)
class JobSummary:
    """A job as an operator sees it."""

    id: int
    kind: str
    status: str  # waiting, running, succeeded, failed, aborted, cancelled
    attempts: int
    scheduled_at: datetime | None  # the next try, for one waiting to be tried again
    changed_at: datetime | None  # its last change of status


@dataclass(frozen=True, slots=True)
class KindBacklog:
    """What waits for one kind of job: not yet run (due or scheduled for a retry), the age
    of the oldest that is due, and how many ran out of attempts and are kept."""

    kind: str
    waiting: int
    oldest_due_seconds: float
    failed: int


class JobQueue(Protocol):
    """The jobs, for operators: what waits, and what ran out of attempts."""

    async def jobs(self, *, failed_only: bool) -> list[JobSummary]: ...

    async def retry(self, job_id: int) -> bool:
        """Run a failed job again now; ``False`` when no failed job has that id."""
        ...

    async def purge_failed(self) -> int:
        """Delete the failed jobs; how many."""
        ...

    async def backlog(self) -> list[KindBacklog]:
        """Raise ``StorageUnavailable`` when the queue cannot be read."""
        ...

    async def check(self) -> None:
        """Return when the queue answers; raise ``StorageUnavailable`` otherwise."""
        ...
