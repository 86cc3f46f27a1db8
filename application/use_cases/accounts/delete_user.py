from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from application.ports import EventBus, UnitOfWork, UnitOfWorkFactory
from application.retries import LOST, Lost, until_stored
from application.use_cases.realtime.publish_live_event import publish_quickly
from domain import policies
from domain.errors import UserNotFound
from domain.events import SessionsEnded, attachments_removed
from domain.user import User, UserBusy


@dataclass(frozen=True, slots=True)
class DeleteUserCommand:
    actor: User
    user_id: uuid.UUID
    expected_versions: Collection[int] | None = None


class DeleteUser:
    """Delete an account and every item it owns, with their attachments. Yourself, or
    anyone as an administrator; never the last active administrator. With
    ``expected_versions`` (the client's ``If-Match``) only while the account is at one of
    those versions."""

    def __init__(self, uow_factory: UnitOfWorkFactory, live: EventBus | None = None) -> None:
        self._uow_factory = uow_factory
        self._live = live

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
            # The attachments' keys, read in the deleting transaction: their bytes are
            # removed by jobs committed with it.
            for removal in attachments_removed(await uow.attachments.release_owner(user_id)):
                uow.emit(removal)
            await uow.items.delete_owned_by(user_id)
            # As read: a user promoted meanwhile is counted again on the next attempt.
            if not await uow.users.delete(user_id, expected_version=target.version):
                return LOST
            uow.emit(SessionsEnded(user_id))
            return None

        await until_stored(self._uow_factory, attempt, UserBusy)
        await publish_quickly(self._live, [SessionsEnded(user_id)])
