from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from application.item_counts import ItemCounts
from application.outbox import encode
from application.ports import Clock, EventBus, UnitOfWork, UnitOfWorkFactory
from application.retries import LOST, Lost, until_stored
from application.use_cases.realtime.publish_live_event import publish_quickly
from domain import policies
from domain.errors import UserNotFound
from domain.events import LiveEvent, OwnerItemsDeleted, SessionsEnded, attachments_removed, iso
from domain.security_event import NOWHERE, Origin, SecurityEvent, SecurityEventType
from domain.user import User, UserBusy

# Items deleted (and told of, to the administrators' sockets) per outbox entry: an owner of
# 100,000 items costs 100 entries of some 45 KB, and one chunk in memory at a time.
ITEMS_PER_EVENT = 1_000


@dataclass(frozen=True, slots=True)
class DeleteUserCommand:
    actor: User
    user_id: uuid.UUID
    expected_versions: Collection[int] | None = None
    origin: Origin = NOWHERE


class DeleteUser:
    """Delete an account and every item it owns, with their attachments. Yourself, or
    anyone as an administrator; never the last active administrator. With
    ``expected_versions`` (the client's ``If-Match``) only while the account is at one of
    those versions. Each deleted item is an ``item.deleted`` live event with its last
    version, committed with the deletion."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        live: EventBus | None = None,
        counts: ItemCounts | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._live = live
        self._counts = counts

    async def execute(self, command: DeleteUserCommand) -> None:
        actor, user_id, expected_versions = (
            command.actor,
            command.user_id,
            command.expected_versions,
        )
        policies.ensure_can_see_user(actor, user_id)

        async def attempt(uow: UnitOfWork, lock: bool) -> Lost | None:
            # Lock the administrators first (see UpdateUser): two deletions that race
            # count one after the other.
            admins = await uow.users.lock_active_admins()
            target = await uow.users.get(user_id, for_update=lock)
            if target is None:
                raise UserNotFound()
            target.ensure_version_in(expected_versions)
            policies.ensure_an_admin_remains(target, None, admins)
            # An item being added from now waits, then finds its owner gone: every item
            # deleted with the account is one told of, none removed by the cascade unseen.
            await uow.users.lock_for_deletion(user_id)
            # The attachments' keys, read in the deleting transaction: their bytes are
            # removed by jobs committed with it.
            for removal in attachments_removed(await uow.attachments.release_owner(user_id)):
                uow.emit(removal)
            quick.clear()
            quick.extend(await self._delete_items(uow, user_id))
            # As read: a user promoted meanwhile is counted again on the next attempt.
            if not await uow.users.delete(user_id, expected_version=target.version):
                return LOST
            uow.emit(SessionsEnded(user_id))
            # Kept after the account: the trail of a deleted account is still the record.
            await uow.security_events.add(
                SecurityEvent.record(
                    SecurityEventType.USER_DELETED,
                    user_id=user_id,
                    actor_id=actor.id,
                    origin=command.origin,
                    at=self._clock.now(),
                )
            )
            return None

        # The item events of an owner of one chunk, published at once; more wait for their jobs.
        quick: list[LiveEvent] = []
        await until_stored(self._uow_factory, attempt, UserBusy)
        if self._counts is not None:
            await self._counts.changed(user_id)
        await publish_quickly(self._live, [*quick, SessionsEnded(user_id)])

    async def _delete_items(self, uow: UnitOfWork, owner_id: uuid.UUID) -> list[LiveEvent]:
        """Delete the owner's items a chunk at a time, each chunk's event stored in the
        outbox as it goes (the transaction's commit keeps or drops them all together), so
        that no more than a chunk is ever in memory."""
        at = iso(self._clock.now())
        chunks = 0
        last: OwnerItemsDeleted | None = None
        async for deleted in uow.items.delete_owned_by_in_chunks(owner_id, ITEMS_PER_EVENT):
            last = OwnerItemsDeleted(owner_id, at, [(str(i), v) for i, v in deleted])
            await uow.outbox.add([encode(last)], self._clock.now())
            chunks += 1
        return list(last.each()) if chunks == 1 and last is not None else []
