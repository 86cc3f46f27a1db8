from __future__ import annotations

from dataclasses import dataclass

from application.errors import StorageUnavailable
from application.ports import Clock, TokenService, UnitOfWork, UnitOfWorkFactory
from application.use_cases.mfa.challenge import challenged_user
from application.use_cases.mfa.codes import RECOVERY_CODE, SecondFactorCodes, mfa_event
from application.use_cases.sessions.login import TokenPair, start_session
from domain.errors import AuthenticationFailed
from domain.security_event import NOWHERE, Origin, SecurityEventType


@dataclass(frozen=True, slots=True)
class VerifyMfaCommand:
    mfa_token: str
    code: str
    client_address: str | None = None
    origin: Origin = NOWHERE


class VerifyMfa:
    """The second step of a login: the login's ``mfa_token`` and a TOTP code (or an unused
    recovery code) give the token pair, and a session starts as a login's does. The token
    works once and for five minutes; a TOTP code is accepted once (a step at or before the
    last accepted one is refused), from the step before to the step after the server's
    clock; a recovery code once ever. Attempts are counted like logins, before the code is
    checked; a wrong code (401) is recorded, and leaves the token usable for another try."""

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

    async def execute(self, command: VerifyMfaCommand) -> TokenPair:
        user_id = self._tokens.decode_mfa(command.mfa_token, setup=False).user_id
        attempt = await self._codes.count(user_id, command.client_address, command.origin)
        try:
            async with self._uow_factory() as uow:
                pair = await self._verify(uow, command)
                if pair is not None:
                    await uow.commit()
        except StorageUnavailable:
            await self._codes.not_checked(attempt)
            raise
        if pair is None:
            await self._codes.failed(user_id, command.origin, "verify")
            raise AuthenticationFailed()
        await self._codes.succeeded(attempt)
        return pair

    async def _verify(self, uow: UnitOfWork, command: VerifyMfaCommand) -> TokenPair | None:
        now = self._clock.now()
        # Spent first: a concurrent request with the same token waits here, then fails.
        user = await challenged_user(
            uow, self._tokens, self._clock, command.mfa_token, setup=False, spend=True
        )
        credential = await uow.second_factor.get(user.id)
        if credential is None or not credential.is_on:
            raise AuthenticationFailed()  # turned off meanwhile: log in again
        kind = await self._codes.spend(uow, credential, command.code, now)
        if kind is None:
            return None
        pair = await start_session(uow, self._tokens, self._clock, user, origin=command.origin)
        origin = command.origin
        events = [
            mfa_event(
                SecurityEventType.LOGIN_SUCCEEDED, user.id, user.id, origin, now, second_factor=kind
            )
        ]
        if kind == RECOVERY_CODE:
            left = await uow.second_factor.unused_recovery_codes(user.id)
            events.append(
                mfa_event(
                    SecurityEventType.MFA_RECOVERY_CODE_USED,
                    user.id,
                    user.id,
                    origin,
                    now,
                    remaining=left,
                )
            )
        await uow.security_events.add(*events)
        return pair
