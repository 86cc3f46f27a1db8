"""Checking a second-factor code: counted first (like a password), then spent at once, so
a code works once however many requests bring it."""

from __future__ import annotations

import uuid
from datetime import datetime

from application.ports import (
    Clock,
    RateLimiter,
    SecretCipher,
    SecurityEventLog,
    TotpAlgorithm,
    UnitOfWork,
)
from application.throttling import CountedAttempt, LoginThrottle
from domain.errors import TooManyAttempts
from domain.mfa import (
    ALLOWED_DRIFT_STEPS,
    TotpCredential,
    looks_like_recovery_code,
    recovery_code_digest,
)
from domain.security_event import Origin, SecurityEvent, SecurityEventType

TOTP = "totp"
RECOVERY_CODE = "recovery_code"


class SecondFactorCodes:
    """Counts code attempts per account, per address-and-account and per address (the
    login limits, counted apart from passwords), records refusals in the security trail
    (never the code), and spends a code inside the caller's transaction."""

    def __init__(
        self,
        totp: TotpAlgorithm,
        cipher: SecretCipher,
        clock: Clock,
        throttle: LoginThrottle | None = None,
        trail: SecurityEventLog | None = None,
        throttled_once: RateLimiter | None = None,
    ) -> None:
        self.totp = totp
        self.cipher = cipher
        self._clock = clock
        self._throttle = throttle
        self._trail = trail
        self._throttled_once = throttled_once

    async def count(
        self, user_id: uuid.UUID, address: str | None, origin: Origin
    ) -> CountedAttempt | None:
        if self._throttle is None:
            return None
        try:
            return await self._throttle.count(str(user_id), address)
        except TooManyAttempts:
            await self._record_throttled(user_id, origin)
            raise

    async def succeeded(self, attempt: CountedAttempt | None) -> None:
        if self._throttle is not None and attempt is not None:
            await self._throttle.succeeded(attempt)

    async def not_checked(self, attempt: CountedAttempt | None) -> None:
        if self._throttle is not None and attempt is not None:
            await self._throttle.not_checked(attempt)

    def step_of(self, credential: TotpCredential, code: str, now: datetime) -> int | None:
        """The time step whose code ``code`` is, under the credential's secret."""
        secret = self.cipher.decrypt(credential.secret_ciphertext)
        return self.totp.matching_step(secret, code.strip(), now, ALLOWED_DRIFT_STEPS)

    async def spend(
        self, uow: UnitOfWork, credential: TotpCredential, code: str, now: datetime
    ) -> str | None:
        """Which kind of code was spent (``totp``, ``recovery_code``), or None when the code
        is wrong, or was used already (a TOTP code within its step, a recovery code ever)."""
        if looks_like_recovery_code(code):
            digest = recovery_code_digest(code)
            used = await uow.second_factor.use_recovery_code(credential.user_id, digest, now)
            return RECOVERY_CODE if used else None
        step = self.step_of(credential, code, now)
        if step is None or not await uow.second_factor.accept_step(credential.user_id, step):
            return None
        return TOTP

    async def failed(
        self, user_id: uuid.UUID, origin: Origin, during: str, reason: str = "code"
    ) -> None:
        """Record a refused code by itself: nothing else of the request is stored."""
        if self._trail is None:
            return
        event = SecurityEvent.record(
            SecurityEventType.MFA_FAILED,
            user_id=user_id,
            actor_id=None,
            origin=origin,
            at=self._clock.now(),
            details={"during": during, "reason": reason},
        )
        await self._trail.record(event)

    async def _record_throttled(self, user_id: uuid.UUID, origin: Origin) -> None:
        if self._trail is None or self._throttled_once is None:
            return
        if await self._throttled_once.hit(f"audit:mfa-throttled:{user_id}"):
            return
        event = SecurityEvent.record(
            SecurityEventType.MFA_THROTTLED,
            user_id=user_id,
            actor_id=None,
            origin=origin,
            at=self._clock.now(),
        )
        await self._trail.record(event)


def mfa_event(
    type: SecurityEventType,
    user_id: uuid.UUID,
    actor_id: uuid.UUID | None,
    origin: Origin,
    at: datetime,
    **details: str | int | bool,
) -> SecurityEvent:
    return SecurityEvent.record(
        type, user_id=user_id, actor_id=actor_id, origin=origin, at=at, details=dict(details)
    )
