from __future__ import annotations

import copy
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from application.changes import UNSET, UserChanges, given_fields
from application.ports import (
    Clock,
    CommonPasswords,
    EventBus,
    PasswordHasher,
    UnitOfWork,
    UnitOfWorkFactory,
    UserReader,
)
from application.retries import LOST, Lost, until_stored
from application.throttling import LoginThrottle
from application.use_cases.realtime.publish_live_event import publish_quickly
from domain import policies
from domain.email import Email
from domain.errors import UserNotFound, WrongCurrentPassword
from domain.events import SessionsEnded, VerificationRequested
from domain.password import check_password_policy
from domain.role import Role
from domain.security_event import NOWHERE, Origin, SecurityEvent, SecurityEventType
from domain.user import User, UserBusy, normalise_full_name


@dataclass(frozen=True, slots=True)
class UpdateUserCommand:
    actor: User
    user_id: uuid.UUID
    changes: UserChanges
    expected_versions: Collection[int] | None = None
    client_address: str | None = None
    origin: Origin = NOWHERE


class UpdateUser:
    """Change an account partly. Only an administrator changes roles or the active flag.
    Changing your own password needs the current one. A new password, a change of roles
    and deactivation end every session of the account. A new email must be free and is
    unverified again, and a link to verify it is mailed to it. The last active administrator
    cannot be demoted or deactivated.

    Only the fields sent are written, on the account as stored when the write is made: a
    concurrent change of other fields (a new password, the end of every session) is never
    undone. With ``expected_versions`` (the client's ``If-Match``) the change is made only
    while the account is at one of those versions, else ``UserChanged``."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        users: UserReader,
        hasher: PasswordHasher,
        clock: Clock,
        common_passwords: CommonPasswords | None = None,
        throttle: LoginThrottle | None = None,
        live: EventBus | None = None,
    ):
        self._uow_factory = uow_factory
        self._users = users
        self._hasher = hasher
        self._clock = clock
        self._common = common_passwords
        self._throttle = throttle
        self._live = live

    async def execute(self, command: UpdateUserCommand) -> User:
        actor, user_id, changes = command.actor, command.user_id, command.changes
        expected_versions = command.expected_versions
        policies.ensure_can_see_user(actor, user_id)
        target = await self._users.get(user_id)
        if target is None:
            raise UserNotFound()
        fields = given_fields(changes) - {"current_password"}
        policies.ensure_can_change_user(actor, target, fields)
        # Invalid input is refused whatever the version: the checks of input come first.
        new_hash = await self._new_password_hash(actor, target, changes, command.client_address)
        target.ensure_version_in(expected_versions)
        # Only a change of roles or of the active flag can remove an administrator. It
        # locks the administrators before reading the target, so that two such changes
        # (each admin demoting the other) take turns and the second sees the first.
        may_remove_admin = changes.roles is not UNSET or changes.is_active is not UNSET

        async def attempt(uow: UnitOfWork, lock: bool) -> User | Lost:
            admins = await uow.users.lock_active_admins() if may_remove_admin else None
            current = await uow.users.get(user_id, for_update=lock)
            if current is None:
                raise UserNotFound()
            updated = self._apply(current, changes, new_hash)
            current.ensure_version_in(expected_versions)
            own_password = new_hash is not None and actor.id == user_id
            if own_password and current.hashed_password != target.hashed_password:
                raise WrongCurrentPassword()  # changed since the current one was checked
            if admins is not None:
                policies.ensure_an_admin_remains(current, updated, admins)
            if not await uow.users.update(current, updated):
                return LOST
            if updated.sessions_valid_after != current.sessions_valid_after:
                await uow.sessions.revoke_user(user_id, updated.sessions_valid_after)
                uow.emit(SessionsEnded(user_id))
            if updated.email != current.email:
                uow.emit(VerificationRequested(user_id, str(updated.email)))
            await uow.security_events.add(
                *self._trail(actor, current, updated, new_hash is not None, command.origin)
            )
            return updated

        stored = await until_stored(self._uow_factory, attempt, UserBusy)
        if stored.sessions_valid_after != target.sessions_valid_after:
            await publish_quickly(self._live, [SessionsEnded(user_id)])
        return stored

    async def _new_password_hash(
        self, actor: User, target: User, changes: UserChanges, client_address: str | None
    ) -> str | None:
        """A wrong ``current_password`` is a failed login of the account: counted under the
        login throttle's account and address-and-account keys, before it is checked."""
        if changes.password is UNSET:
            return None
        common = self._common
        check_password_policy(changes.password, is_common=common.contains if common else None)
        if actor.id == target.id:
            current = changes.current_password
            if not isinstance(current, str):
                raise WrongCurrentPassword("Current password is required to set a new one")
            if self._throttle is None:
                matches = await self._hasher.verify(target.hashed_password, current)
            else:
                matches = await self._throttle.check(
                    str(target.email),
                    client_address,
                    lambda: self._hasher.verify(target.hashed_password, current),
                    per_address=False,
                )
            if not matches:
                raise WrongCurrentPassword()
        return await self._hasher.hash(changes.password)

    def _trail(
        self, actor: User, before: User, after: User, new_password: bool, origin: Origin
    ) -> list[SecurityEvent]:
        """What the change did, as the trail tells it: judged on the account as stored
        when the write was made, so a change that was already so records nothing."""
        found: list[tuple[SecurityEventType, dict[str, Any]]] = []
        if new_password:
            found.append((SecurityEventType.PASSWORD_CHANGED, {}))
        if after.roles != before.roles:
            roles = {
                "roles": sorted(role.value for role in after.roles),
                "previous_roles": sorted(role.value for role in before.roles),
            }
            found.append((SecurityEventType.USER_ROLES_CHANGED, roles))
        if after.is_active != before.is_active:
            kind = SecurityEventType.USER_ACTIVATED
            if not after.is_active:
                kind = SecurityEventType.USER_DEACTIVATED
            found.append((kind, {}))
        now = after.updated_at
        return [
            SecurityEvent.record(
                kind, user_id=after.id, actor_id=actor.id, origin=origin, at=now, details=details
            )
            for kind, details in found
        ]

    def _apply(self, current: User, changes: UserChanges, new_hash: str | None) -> User:
        now = self._clock.now()
        user = copy.copy(current)
        if changes.email is not UNSET:
            email = Email(changes.email)
            if email != user.email:
                user.email, user.is_verified = email, False
        if changes.full_name is not UNSET:
            user.full_name = normalise_full_name(changes.full_name)
        ends_sessions = new_hash is not None
        if new_hash is not None:
            user.hashed_password = new_hash
        # Everyone keeps the basic role; only a real change of roles ends sessions.
        if changes.roles is not UNSET and changes.roles | {Role.USER} != user.roles:
            user.roles = changes.roles | {Role.USER}
            user.is_superuser = user.is_superuser and user.is_admin
            ends_sessions = True
        if changes.is_active is not UNSET and changes.is_active != user.is_active:
            user.is_active = changes.is_active
            ends_sessions = ends_sessions or not changes.is_active
        if ends_sessions:
            user.end_sessions(now)
        user.touch(now)
        return user
