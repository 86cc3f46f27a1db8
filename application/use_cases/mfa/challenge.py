"""The token between a login's password and its second factor."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from application.ports import Clock, TokenService, UnitOfWork
from domain.errors import AuthenticationFailed
from domain.mfa import MFA_TOKEN_LIFETIME
from domain.one_time_token import OneTimeToken, TokenPurpose
from domain.session import token_digest
from domain.user import User


@dataclass(frozen=True, slots=True)
class MfaChallenge:
    """The password was right; a second factor must follow (``setup_required``: one must be
    set up first, with this token as the bearer of set-up and confirm)."""

    mfa_token: str
    expires_in: int
    setup_required: bool = False


async def issue_challenge(
    uow: UnitOfWork, tokens: TokenService, clock: Clock, user: User, *, setup: bool
) -> MfaChallenge:
    """Stored (as a digest) so that it can be spent once. The caller commits."""
    issued = tokens.issue_mfa(user.id, setup=setup)
    await uow.one_time_tokens.add(
        OneTimeToken.issue(
            user_id=user.id,
            purpose=TokenPurpose.MFA_LOGIN,
            token=issued.token,
            email=user.email.value,
            now=clock.now(),
            lifetime=MFA_TOKEN_LIFETIME,
        )
    )
    return MfaChallenge(issued.token, issued.expires_in, setup_required=setup)


async def challenged_user(
    uow: UnitOfWork, tokens: TokenService, clock: Clock, token: str, *, setup: bool, spend: bool
) -> User:
    """The user a challenge token stands for, while it is unspent and unexpired, the account
    active, and its password unchanged since the token was issued (a password change ends
    every session, this one in the making too). ``spend``: spent now, atomically: of two
    requests with one token, one goes on. ``AuthenticationFailed`` otherwise."""
    claims = tokens.decode_mfa(token, setup=setup)
    user = await uow.users.get(claims.user_id)
    if user is None or not user.is_active or claims.issued_at < user.sessions_valid_after:
        raise AuthenticationFailed()
    stored = await uow.one_time_tokens.get_by_token_hash(token_digest(token))
    now = clock.now()
    if stored is None or stored.user_id != user.id:
        raise AuthenticationFailed()
    if not stored.is_usable(TokenPurpose.MFA_LOGIN, now):
        raise AuthenticationFailed()
    if spend and not await uow.one_time_tokens.use(stored.id, now):
        raise AuthenticationFailed()
    return user


def user_id_of(tokens: TokenService, token: str, *, setup: bool) -> uuid.UUID:
    return tokens.decode_mfa(token, setup=setup).user_id
