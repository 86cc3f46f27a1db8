from __future__ import annotations

import copy
from dataclasses import dataclass

from application.ports import (
    Clock,
    CommonPasswords,
    EventBus,
    PasswordHasher,
    UnitOfWork,
    UnitOfWorkFactory,
)
from application.retries import LOST, Lost, until_stored
from application.use_cases.mail.tokens import usable_token
from application.use_cases.realtime.publish_live_event import publish_quickly
from domain.errors import InvalidToken
from domain.events import LiveEvent, SessionsEnded
from domain.one_time_token import TokenPurpose
from domain.password import check_password_policy
from domain.security_event import NOWHERE, Origin, SecurityEvent, SecurityEventType
from domain.session import token_digest
from domain.user import UserBusy


@dataclass(frozen=True, slots=True)
class ConfirmPasswordResetCommand:
    token: str
    new_password: str
    origin: Origin = NOWHERE


class ConfirmPasswordReset:
    """Set a new password with a reset token. The token works once; every other reset
    token of the account is spent too, and every session of the account ends. A weak
    password is refused without spending the token."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        hasher: PasswordHasher,
        clock: Clock,
        common_passwords: CommonPasswords | None = None,
        live: EventBus | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._hasher = hasher
        self._clock = clock
        self._common = common_passwords
        self._live = live

    async def execute(self, command: ConfirmPasswordResetCommand) -> None:
        token, new_password = command.token, command.new_password
        digest = token_digest(token)
        async with self._uow_factory() as uow:
            await usable_token(uow, digest, TokenPurpose.PASSWORD_RESET, self._clock)
        common = self._common
        check_password_policy(
            new_password, field="new_password", is_common=common.contains if common else None
        )
        hashed = await self._hasher.hash(new_password)

        async def attempt(uow: UnitOfWork, lock: bool) -> Lost | None:
            record, user = await usable_token(
                uow, digest, TokenPurpose.PASSWORD_RESET, self._clock, lock=lock
            )
            now = self._clock.now()
            if not await uow.one_time_tokens.use(record.id, now):
                raise InvalidToken()  # another request used it a moment ago
            await uow.one_time_tokens.use_all(user.id, TokenPurpose.PASSWORD_RESET, now)
            reset = copy.copy(user)
            reset.hashed_password = hashed
            reset.end_sessions(now)
            reset.touch(now)
            if not await uow.users.update(user, reset):
                return LOST  # rolled back, the token with it: tried again on the newer row
            # After the user's row: a login or rotation holding it has committed by now.
            await uow.sessions.revoke_user(user.id, now)
            await uow.security_events.add(
                SecurityEvent.record(
                    SecurityEventType.PASSWORD_RESET,
                    user_id=user.id,
                    actor_id=user.id,
                    origin=command.origin,
                    at=now,
                )
            )
            ended[:] = [SessionsEnded(user.id)]
            uow.emit(ended[0])
            return None

        ended: list[LiveEvent] = []
        await until_stored(self._uow_factory, attempt, UserBusy)
        await publish_quickly(self._live, ended)
