from __future__ import annotations

import uuid
from dataclasses import dataclass

from application.errors import HashingQueueFull, StorageUnavailable
from application.ports import Clock, TokenService, UnitOfWork, UnitOfWorkFactory
from application.use_cases.mfa.challenge import challenged_user
from application.use_cases.mfa.codes import SecondFactorCodes, mfa_event
from application.use_cases.sessions.login import TokenPair, start_session
from domain.mfa import (
    InvalidCode,
    SecondFactorAlreadyOn,
    SecondFactorOff,
    new_recovery_codes,
    recovery_codes_for,
)
from domain.security_event import NOWHERE, Origin, SecurityEventType
from domain.user import User


@dataclass(frozen=True, slots=True)
class ConfirmTotpCommand:
    """``user``: the caller of an access token; or None with ``setup_token``, the login's
    token of a user who must set up a second factor before anything else."""

    code: str
    user: User | None = None
    setup_token: str | None = None
    client_address: str | None = None
    origin: Origin = NOWHERE


@dataclass(frozen=True, slots=True)
class TotpConfirmed:
    recovery_codes: list[str]
    tokens: TokenPair | None = None


class ConfirmTotp:
    """Turn the pending secret on with a code from it, and return ten recovery codes, shown
    this once (stored as digests). The code's time step is taken: it cannot be used again
    to log in. Attempts are counted like logins. Confirmed with a set-up token, the login
    goes on: the token is spent and a session starts (the pair is returned)."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        codes: SecondFactorCodes,
        tokens: TokenService,
        clock: Clock,
    ) -> None:
        self._uow_factory = uow_factory
        self._codes = codes
        self._tokens = tokens
        self._clock = clock

    async def execute(self, command: ConfirmTotpCommand) -> TotpConfirmed:
        user_id = self._caller_id(command)
        attempt = await self._codes.count(user_id, command.client_address, command.origin)
        try:
            async with self._uow_factory() as uow:
                confirmed = await self._confirm(uow, command)
                if confirmed is not None:
                    await uow.commit()
        except (HashingQueueFull, StorageUnavailable):
            await self._codes.not_checked(attempt)
            raise
        if confirmed is None:
            await self._codes.failed(user_id, command.origin, "confirm")
            raise InvalidCode()
        await self._codes.succeeded(attempt)
        return confirmed

    def _caller_id(self, command: ConfirmTotpCommand) -> uuid.UUID:
        if command.user is not None:
            return command.user.id
        assert command.setup_token is not None, "a caller or a set-up token"
        return self._tokens.decode_mfa(command.setup_token, setup=True).user_id

    async def _confirm(self, uow: UnitOfWork, command: ConfirmTotpCommand) -> TotpConfirmed | None:
        now = self._clock.now()
        user = command.user
        if user is None:
            assert command.setup_token is not None
            user = await challenged_user(
                uow, self._tokens, self._clock, command.setup_token, setup=True, spend=True
            )
        credential = await uow.second_factor.get(user.id)
        if credential is None:
            raise SecondFactorOff()
        if credential.is_on:
            raise SecondFactorAlreadyOn()
        step = self._codes.step_of(credential, command.code, now)
        if step is None:
            return None
        if not await uow.second_factor.confirm(user.id, step, now):
            raise SecondFactorAlreadyOn()  # confirmed by a concurrent request
        codes = new_recovery_codes()
        await uow.second_factor.replace_recovery_codes(
            user.id, recovery_codes_for(user.id, codes, now)
        )
        events = [mfa_event(SecurityEventType.MFA_ENABLED, user.id, user.id, command.origin, now)]
        pair = None
        if command.setup_token is not None:
            pair = await start_session(uow, self._tokens, self._clock, user, origin=command.origin)
            events.append(
                mfa_event(
                    SecurityEventType.LOGIN_SUCCEEDED,
                    user.id,
                    user.id,
                    command.origin,
                    now,
                    second_factor="totp",
                )
            )
        await uow.security_events.add(*events)
        return TotpConfirmed(recovery_codes=codes, tokens=pair)
