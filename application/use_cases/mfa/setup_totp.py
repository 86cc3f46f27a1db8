from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, UnitOfWorkFactory
from application.use_cases.mfa.codes import SecondFactorCodes, mfa_event
from domain.mfa import SecondFactorAlreadyOn, TotpCredential
from domain.security_event import NOWHERE, Origin, SecurityEventType
from domain.user import User


@dataclass(frozen=True, slots=True)
class SetupTotpCommand:
    user: User
    origin: Origin = NOWHERE


@dataclass(frozen=True, slots=True)
class TotpSetup:
    secret: str
    otpauth_uri: str
    qr_svg: str


class SetupTotp:
    """Make a new TOTP secret for the caller, pending until a code from it is confirmed. A
    set-up again replaces a pending secret; while the second factor is on it is refused
    (``SecondFactorAlreadyOn``). The secret is stored encrypted and shown this once."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, codes: SecondFactorCodes, clock: Clock, issuer: str
    ) -> None:
        self._uow_factory = uow_factory
        self._codes = codes
        self._clock = clock
        self._issuer = issuer

    async def execute(self, command: SetupTotpCommand) -> TotpSetup:
        user, now = command.user, self._clock.now()
        secret = self._codes.totp.new_secret()
        pending = TotpCredential(user.id, self._codes.cipher.encrypt(secret), now)
        async with self._uow_factory() as uow:
            if not await uow.second_factor.put_pending(pending):
                raise SecondFactorAlreadyOn()
            await uow.security_events.add(
                mfa_event(
                    SecurityEventType.MFA_SETUP_STARTED, user.id, user.id, command.origin, now
                )
            )
            await uow.commit()
        uri = self._codes.totp.provisioning_uri(secret, user.email.value, self._issuer)
        return TotpSetup(secret=secret, otpauth_uri=uri, qr_svg=self._codes.totp.qr_svg(uri))
