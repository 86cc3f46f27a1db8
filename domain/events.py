"""What must happen after a change is committed: recorded with the change, in its
transaction, and handled afterwards, at least once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.item import Item


@dataclass(frozen=True, slots=True)
class UserRegistered:
    """A new account: it gets a welcome mail."""

    user_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class VerificationRequested:
    """An address to verify (a new account, a changed address, a resend): a link is mailed
    to it while the account still has it and it is not verified. ``counted``: the mail was
    counted against the account's hourly verification mails already (a resend is, before it
    is accepted); otherwise it is counted when it is sent."""

    user_id: uuid.UUID
    email: str
    counted: bool = False


@dataclass(frozen=True, slots=True)
class PasswordResetRequested:
    """Someone asked for a reset link for this address: one is mailed when it belongs to
    an active account, and nothing happens otherwise."""

    email: str


@dataclass(frozen=True, slots=True)
class ItemCreated:
    """A committed new item, as the API shows it (times in ISO 8601, UTC): its owner and
    the administrators hear of it."""

    item_id: uuid.UUID
    owner_id: uuid.UUID
    version: int
    title: str
    description: str | None
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class ItemUpdated:
    """A committed change of an item: the item as it now is."""

    item_id: uuid.UUID
    owner_id: uuid.UUID
    version: int
    title: str
    description: str | None
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class ItemDeleted:
    """A committed deletion; ``version`` is the last the item had, ``at`` when it went."""

    item_id: uuid.UUID
    owner_id: uuid.UUID
    version: int
    at: str


@dataclass(frozen=True, slots=True)
class OwnerItemsDeleted:
    """Items deleted with their owner's account, one bounded chunk of them: each is heard
    of as an ``ItemDeleted`` with its last version. In chunks, so that an owner of 100,000
    items costs a hundred outbox rows and a chunk in memory, not 100,000 of each.
    ``items``: ``(item id, last version)`` pairs."""

    owner_id: uuid.UUID
    at: str
    items: Sequence[tuple[str, int]]

    def each(self) -> Iterator[ItemDeleted]:
        for item_id, version in self.items:
            yield ItemDeleted(uuid.UUID(item_id), self.owner_id, int(version), self.at)


@dataclass(frozen=True, slots=True)
class SessionsEnded:
    """The user's sessions ended (a logout, a password change, a deactivation...): every
    live connection of theirs that the ended sessions authorised must close."""

    user_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class AttachmentsRemoved:
    """Attachments' rows are gone (deleted one by one, or with their item or owner): their
    bytes are removed from storage under these keys, however many tries that takes."""

    keys: tuple[str, ...]

    def __post_init__(self) -> None:
        # Read back from the outbox's JSON as a list.
        object.__setattr__(self, "keys", tuple(self.keys))


# Keys per job when many attachments go at once (a user with thousands): each job stays
# small enough to finish well within one try.
KEYS_PER_JOB = 500


def attachments_removed(keys: list[str]) -> list[AttachmentsRemoved]:
    return [
        AttachmentsRemoved(tuple(keys[start : start + KEYS_PER_JOB]))
        for start in range(0, len(keys), KEYS_PER_JOB)
    ]


ItemEvent = ItemCreated | ItemUpdated | ItemDeleted
LiveEvent = ItemEvent | SessionsEnded
Event = (
    UserRegistered
    | VerificationRequested
    | PasswordResetRequested
    | ItemCreated
    | ItemUpdated
    | ItemDeleted
    | OwnerItemsDeleted
    | SessionsEnded
    | AttachmentsRemoved
)


def item_event(kind: type[ItemCreated] | type[ItemUpdated], item: Item) -> ItemEvent:
    """The event of a created or changed item, with the fields the API shows."""
    return kind(
        item_id=item.id,
        owner_id=item.owner_id,
        version=item.version,
        title=item.title,
        description=item.description,
        created_at=iso(item.created_at),
        updated_at=iso(item.updated_at),
    )


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
