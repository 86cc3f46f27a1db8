from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from application.errors import StorageUnavailable
from application.ports import Clock, PasswordHasher, UnitOfWorkFactory
from application.throttling import LoginThrottle
from application.use_cases.mfa.codes import SecondFactorCodes, mfa_event
from domain.errors import PermissionDenied, ValidationFailed
from domain.mfa import InvalidCode, SecondFactorOff
from domain.security_event import NOWHERE, Origin, SecurityEventType
from domain.user import User


class WrongPassword(ValidationFailed):
    def __init__(self) -> None:
        super().__init__("password", "Password is incorrect", "invalid_password")


class SecondFactorRequired(PermissionDenied):
    def __init__(self) -> None:
        super().__init__("Your role requires a second factor: it cannot be turned off")


@dataclass(frozen=True, slots=True)
class DisableTotpCommand:
    user: User
    password: str
    code: str
    client_address: str | None = None
    origin: Origin = NOWHERE


class DisableTotp:
    """Turn the second factor off: the password (counted like a login's) and a code (a TOTP
    code or a recovery code, counted like one) are both needed. The secret and every
    recovery code are deleted. A user whose role requires a second factor may not."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        codes: SecondFactorCodes,
        hasher: PasswordHasher,
        clock: Clock,
        password_throttle: LoginThrottle | None = None,
        required_roles: Collection[str] = (),
    ) -> None:
        self._uow_factory = uow_factory
        self._codes = codes
        self._hasher = hasher
        self._clock = clock
        self._password_throttle = password_throttle
        self._required_roles = frozenset(required_roles)

    async def execute(self, command: DisableTotpCommand) -> None:
        user = command.user
        if any(role.value in self._required_roles for role in user.roles):
            raise SecondFactorRequired()
        await self._check_password(command)
        attempt = await self._codes.count(user.id, command.client_address, command.origin)
        try:
            async with self._uow_factory() as uow:
                credential = await uow.second_factor.get(user.id)
                if credential is None or not credential.is_on:
                    raise SecondFactorOff()
                now = self._clock.now()
                spent = await self._codes.spend(uow, credential, command.code, now)
                if spent is not None:
                    await uow.second_factor.remove(user.id)
                    await uow.security_events.add(
                        mfa_event(
                            SecurityEventType.MFA_DISABLED, user.id, user.id, command.origin, now
                        )
                    )
                    await uow.commit()
        except StorageUnavailable:
            await self._codes.not_checked(attempt)
            raise
        if spent is None:
            await self._codes.failed(user.id, command.origin, "disable")
            raise InvalidCode()
        await self._codes.succeeded(attempt)

    async def _check_password(self, command: DisableTotpCommand) -> None:
        user = command.user

        async def verify() -> bool:
            return await self._hasher.verify(user.hashed_password, command.password)

        if self._password_throttle is None:
            matches = await verify()
        else:
            matches = await self._password_throttle.check(
                user.email.value, command.client_address, verify
            )
        if not matches:
            await self._codes.failed(user.id, command.origin, "disable", reason="password")
            raise WrongPassword()
