from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, UnitOfWorkFactory
from application.use_cases.mfa.codes import mfa_event
from domain.email import Email
from domain.errors import UserNotFound
from domain.mfa import SecondFactorOff
from domain.security_event import NOWHERE, SecurityEventType


@dataclass(frozen=True, slots=True)
class OperatorDisableMfaCommand:
    email: str


class OperatorDisableMfa:
    """An operator turns a locked-out user's second factor off (``keel users disable-mfa``):
    the secret and recovery codes are deleted, and ``mfa.disabled`` is recorded with the
    system as the actor. ``UserNotFound`` for an unknown email, ``SecondFactorOff`` when
    there was nothing to turn off."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def execute(self, command: OperatorDisableMfaCommand) -> None:
        email = Email(command.email)
        async with self._uow_factory() as uow:
            user = await uow.users.get_by_email(email)
            if user is None:
                raise UserNotFound()
            if not await uow.second_factor.remove(user.id):
                raise SecondFactorOff()
            now = self._clock.now()
            await uow.security_events.add(
                mfa_event(
                    SecurityEventType.MFA_DISABLED, user.id, None, NOWHERE, now, by="operator"
                )
            )
            await uow.commit()
