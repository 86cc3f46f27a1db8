from __future__ import annotations

from dataclasses import dataclass

from application.errors import StorageUnavailable
from application.ports import Clock, UnitOfWorkFactory
from application.use_cases.mfa.codes import SecondFactorCodes, mfa_event
from domain.mfa import InvalidCode, SecondFactorOff, new_recovery_codes, recovery_codes_for
from domain.security_event import NOWHERE, Origin, SecurityEventType
from domain.user import User


@dataclass(frozen=True, slots=True)
class RenewRecoveryCodesCommand:
    user: User
    code: str
    client_address: str | None = None
    origin: Origin = NOWHERE


class RenewRecoveryCodes:
    """Ten new recovery codes, shown this once, for a code (TOTP or recovery, counted like a
    login); every old one stops working in the same transaction."""

    def __init__(self, uow_factory: UnitOfWorkFactory, codes: SecondFactorCodes, clock: Clock):
        self._uow_factory = uow_factory
        self._codes = codes
        self._clock = clock

    async def execute(self, command: RenewRecoveryCodesCommand) -> list[str]:
        user = command.user
        attempt = await self._codes.count(user.id, command.client_address, command.origin)
        fresh: list[str] | None = None
        try:
            async with self._uow_factory() as uow:
                credential = await uow.second_factor.get(user.id)
                if credential is None or not credential.is_on:
                    raise SecondFactorOff()
                now = self._clock.now()
                if await self._codes.spend(uow, credential, command.code, now) is not None:
                    fresh = new_recovery_codes()
                    stored = recovery_codes_for(user.id, fresh, now)
                    await uow.second_factor.replace_recovery_codes(user.id, stored)
                    await uow.security_events.add(
                        mfa_event(
                            SecurityEventType.MFA_RECOVERY_CODES_RENEWED,
                            user.id,
                            user.id,
                            command.origin,
                            now,
                        )
                    )
                    await uow.commit()
        except StorageUnavailable:
            await self._codes.not_checked(attempt)
            raise
        if fresh is None:
            await self._codes.failed(user.id, command.origin, "recovery_codes")
            raise InvalidCode()
        await self._codes.succeeded(attempt)
        return fresh
