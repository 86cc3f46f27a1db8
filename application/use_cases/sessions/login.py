from __future__ import annotations

import copy
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.errors import HashingQueueFull, SecondFactorUnavailable, StorageUnavailable
from application.ports import (
    Clock,
    PasswordHasher,
    RateLimiter,
    SecurityEventLog,
    TokenService,
    UnitOfWork,
    UnitOfWorkFactory,
)
from application.throttling import LoginThrottle, account_key
from application.use_cases.mfa.challenge import MfaChallenge, issue_challenge
from domain.email import Email
from domain.errors import AuthenticationFailed, EmailNotVerified, InvalidEmail, TooManyAttempts
from domain.security_event import NOWHERE, Origin, SecurityEvent, SecurityEventType
from domain.session import RefreshSession
from domain.user import User

# Verified against when the email is unknown, so that both paths cost one hash.
_DUMMY_PASSWORD = "keel-timing-equaliser-not-a-password"  # noqa: S105


@dataclass(frozen=True, slots=True)
class LoginCommand:
    email: str
    password: str
    client_address: str | None = None
    origin: Origin = NOWHERE


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"  # noqa: S105 (the OAuth2 token type, not a secret)


class Login:
    """Exchange an email and password for tokens. Unknown email, wrong password and an
    inactive account fail alike, and take the same time. A hash made with older
    parameters is replaced on success.

    The security trail gets a ``login.succeeded`` with the new session, and a
    ``login.failed`` (by itself: nothing else is stored) for each refused attempt. One on an
    unknown email names no account and keeps nothing of what was typed (a password typed in
    the wrong field, perhaps); it is written all the same, so that a wrong password and an
    unknown email cost the same and take as long.
    A throttled attempt is refused before any hash, so a flood of them costs little; its
    ``login.throttled`` is recorded once per account and throttle window
    (``throttled_once``), not once per request.

    A user with a second factor on, or whose role is in ``mfa_required_roles``, gets no
    tokens: the right password gives an ``MfaChallenge`` (its token spent by the second
    factor, or by setting one up first when the role requires it and there is none)."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        hasher: PasswordHasher,
        tokens: TokenService,
        clock: Clock,
        throttle: LoginThrottle | None = None,
        require_verified_email: bool = False,
        trail: SecurityEventLog | None = None,
        throttled_once: RateLimiter | None = None,
        mfa_required_roles: Collection[str] = (),
        second_factor_available: bool = True,
    ) -> None:
        self._uow_factory = uow_factory
        self._second_factor_available = second_factor_available
        self._mfa_required_roles = frozenset(mfa_required_roles)
        self._trail = trail
        self._throttled_once = throttled_once
        self._require_verified_email = require_verified_email
        self._hasher = hasher
        self._tokens = tokens
        self._clock = clock
        self._throttle = throttle
        self._dummy_hash: str | None = None

    async def execute(self, command: LoginCommand) -> TokenPair | MfaChallenge:
        """Every attempt is counted (per account, per address and account, per address)
        before any password is checked; at a limit the caller waits (``TooManyAttempts``)."""
        if self._throttle is None:
            return await self._authenticate(command)
        try:
            attempt = await self._throttle.count(command.email, command.client_address)
        except TooManyAttempts:
            await self._record_throttled(command)
            raise
        try:
            pair = await self._authenticate(command)
        except (EmailNotVerified, SecondFactorUnavailable):
            await self._throttle.succeeded(attempt)  # the right password
            raise
        except (HashingQueueFull, StorageUnavailable):
            await self._throttle.not_checked(attempt)
            raise
        await self._throttle.succeeded(attempt)
        return pair

    async def _authenticate(self, command: LoginCommand) -> TokenPair | MfaChallenge:
        user = await self._find(command.email)
        if user is None:
            await self._hasher.verify(await self._dummy(), command.password)
            # Recorded too, with no account and nothing of what was typed (it may be a
            # password): the same write as a wrong password, so the answer takes as long.
            await self._record_failed(None, command.origin, "unknown_account")
            raise AuthenticationFailed()
        if not await self._hasher.verify(user.hashed_password, command.password):
            await self._record_failed(user, command.origin, "password")
            raise AuthenticationFailed()
        if not user.is_active:
            await self._record_failed(user, command.origin, "inactive")
            raise AuthenticationFailed()
        if self._require_verified_email and not user.is_verified:
            # Only after the right password: the answer tells nothing to a guesser.
            await self._record_failed(user, command.origin, "email_not_verified")
            raise EmailNotVerified()
        if self._hasher.needs_rehash(user.hashed_password):
            await self._rehash(user, command.password)
        # Stored only while the account is as it was read before the password was checked:
        # a password change, deactivation or end of sessions meanwhile makes this a 401.
        async with self._uow_factory() as uow:
            challenge = await self._challenge(uow, user)
            if challenge is not None:
                await uow.commit()
                return challenge
            pair = await start_session(uow, self._tokens, self._clock, user, origin=command.origin)
            await uow.security_events.add(
                SecurityEvent.record(
                    SecurityEventType.LOGIN_SUCCEEDED,
                    user_id=user.id,
                    actor_id=user.id,
                    origin=command.origin,
                    at=self._clock.now(),
                )
            )
            await uow.commit()
        return pair

    async def _challenge(self, uow: UnitOfWork, user: User) -> MfaChallenge | None:
        credential = await uow.second_factor.get(user.id)
        has_factor = credential is not None and credential.is_on
        required = any(role.value in self._mfa_required_roles for role in user.roles)
        if not has_factor and not required:
            return None
        if not self._second_factor_available:
            # No tokens without the second factor, and no challenge that cannot be met.
            raise SecondFactorUnavailable()
        fresh = await uow.users.get(user.id)
        if (
            fresh is None
            or not fresh.is_active
            or fresh.sessions_valid_after != user.sessions_valid_after
        ):
            raise AuthenticationFailed()  # changed since the password was checked
        return await issue_challenge(uow, self._tokens, self._clock, user, setup=not has_factor)

    async def _record_failed(self, user: User | None, origin: Origin, reason: str) -> None:
        if self._trail is not None:
            event = SecurityEvent.record(
                SecurityEventType.LOGIN_FAILED,
                user_id=None if user is None else user.id,
                actor_id=None,
                origin=origin,
                at=self._clock.now(),
                details={"reason": reason},
            )
            await self._trail.record(event)

    async def _record_throttled(self, command: LoginCommand) -> None:
        """Once per account and window: the first throttled attempt of a window records,
        the rest of a flood costs one counter each and no row."""
        if self._trail is None or self._throttled_once is None:
            return
        if await self._throttled_once.hit(f"audit:throttled:{account_key(command.email)}"):
            return
        user = await self._find(command.email)
        if user is not None:
            event = SecurityEvent.record(
                SecurityEventType.LOGIN_THROTTLED,
                user_id=user.id,
                actor_id=None,
                origin=command.origin,
                at=self._clock.now(),
            )
            await self._trail.record(event)

    async def _find(self, raw_email: str) -> User | None:
        try:
            email = Email(raw_email)
        except InvalidEmail:
            return None
        async with self._uow_factory() as uow:
            return await uow.users.get_by_email(email)

    async def _rehash(self, user: User, password: str) -> None:
        """The same password under the current parameters: not a change anyone sees, so
        the version stays. Skipped when the account changed meanwhile."""
        new_hash = await self._hasher.hash(password)
        async with self._uow_factory() as uow:
            fresh = await uow.users.get(user.id)
            if fresh is None or fresh.hashed_password != user.hashed_password:
                return  # changed meanwhile: the newer hash wins
            rehashed = copy.copy(fresh)
            rehashed.hashed_password = new_hash
            if await uow.users.update(fresh, rehashed):
                await uow.commit()

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self._hasher.hash(_DUMMY_PASSWORD)
        return self._dummy_hash


async def start_session(
    uow: UnitOfWork,
    tokens: TokenService,
    clock: Clock,
    user: User,
    family_id: uuid.UUID | None = None,
    *,
    origin: Origin = NOWHERE,
    started_at: datetime | None = None,
) -> TokenPair:
    """Issue an access and a refresh token, and store the refresh token's session (in a new
    family for a login, in the same family for a rotation, which passes the family's
    ``started_at``), while ``user`` is still active and has not had its sessions ended since
    it was read; ``AuthenticationFailed`` otherwise. The access token names the session (the
    family). ``origin``: the device, as the list of sessions shows it. The caller commits."""
    refresh = tokens.issue_refresh(user.id)
    now = clock.now()
    session = RefreshSession.start(
        user_id=user.id,
        token=refresh.token,
        now=now,
        expires_at=now + timedelta(seconds=refresh.expires_in),
        family_id=family_id,
        started_at=started_at,
        user_agent=origin.user_agent,
        address=origin.address,
    )
    if not await uow.sessions.start(session, sessions_valid_after=user.sessions_valid_after):
        raise AuthenticationFailed()
    access = tokens.issue_access(user.id, user.roles, session.family_id)
    return TokenPair(access.token, refresh.token, access.expires_in)
