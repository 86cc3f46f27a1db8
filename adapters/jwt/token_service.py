"""Access and refresh tokens as JWTs, with PyJWT.

The algorithm comes from configuration, never from the token's header. Every registered claim
is required, and time is checked against the injected clock so that tests can move it.
"""

from __future__ import annotations

import math
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from application.ports import AccessClaims, Clock, IssuedToken
from domain.errors import AuthenticationFailed
from domain.mfa import MFA_TOKEN_LIFETIME
from domain.role import Role

ACCESS = "access"
REFRESH = "refresh"
MFA = "mfa"
MFA_SETUP = "mfa_setup"
REQUIRED_CLAIMS = ["exp", "nbf", "iat", "iss", "aud", "sub", "jti", "type"]
# Tokens from a clock slightly ahead are accepted; anything further is forged or broken.
MAX_CLOCK_SKEW = timedelta(seconds=30)
MAX_CLOCK_SKEW_SECONDS = MAX_CLOCK_SKEW.total_seconds()
MAX_TOKEN_LENGTH = 8192
# Verified tokens kept, by their text, so that a client's next request skips the signature
# and parsing of its claims; their times and type are still checked on every use.
VERIFIED_CACHE_SIZE = 1024


class PyJwtTokenService:
    def __init__(
        self,
        *,
        secret: str,
        algorithm: str,
        issuer: str,
        audience: str,
        access_ttl: timedelta,
        refresh_ttl: timedelta,
        clock: Clock,
    ) -> None:
        self._secret = secret
        self._algorithm = algorithm
        self._issuer = issuer
        self._audience = audience
        self._access_ttl = access_ttl
        self._refresh_ttl = refresh_ttl
        self._clock = clock
        self._verified: dict[str, _Verified] = {}

    def issue_access(
        self, user_id: uuid.UUID, roles: frozenset[Role], session_id: uuid.UUID
    ) -> IssuedToken:
        extra = {"sid": str(session_id), "roles": sorted(role.value for role in roles)}
        return self._issue(user_id, ACCESS, self._access_ttl, extra)

    def issue_refresh(self, user_id: uuid.UUID) -> IssuedToken:
        return self._issue(user_id, REFRESH, self._refresh_ttl, {})

    def decode_access(self, token: str) -> AccessClaims:
        return self._decode(token, ACCESS)

    def decode_refresh(self, token: str) -> AccessClaims:
        return self._decode(token, REFRESH)

    def issue_mfa(self, user_id: uuid.UUID, *, setup: bool) -> IssuedToken:
        return self._issue(user_id, MFA_SETUP if setup else MFA, MFA_TOKEN_LIFETIME, {})

    def decode_mfa(self, token: str, *, setup: bool) -> AccessClaims:
        return self._decode(token, MFA_SETUP if setup else MFA)

    def _issue(
        self, user_id: uuid.UUID, kind: str, ttl: timedelta, extra: dict[str, Any]
    ) -> IssuedToken:
        now = self._clock.now().timestamp()
        claims = {
            "sub": str(user_id),
            # Microseconds: the token must compare exactly with the time sessions were ended.
            "iat": round(now, 6),
            "nbf": math.floor(now),
            "exp": math.floor(now + ttl.total_seconds()),
            "iss": self._issuer,
            "aud": self._audience,
            "jti": secrets.token_urlsafe(16),
            "type": kind,
            **extra,
        }
        token = jwt.encode(claims, self._secret, algorithm=self._algorithm)
        return IssuedToken(token=token, expires_in=int(ttl.total_seconds()))

    def _decode(self, token: str, kind: str) -> AccessClaims:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise AuthenticationFailed()
        verified = self._verified.get(token)
        if verified is None:
            verified = _parsed(self._verify(token))
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                self._verified.clear()
            self._verified[token] = verified
        return self._checked(verified, kind)

    def _verify(self, token: str) -> dict[str, Any]:
        """The claims of a token whose signature, algorithm, audience and issuer hold."""
        try:
            decoded = jwt.decode_complete(
                token,
                self._secret,
                algorithms=[self._algorithm],
                audience=self._audience,
                issuer=self._issuer,
                options={
                    "require": REQUIRED_CLAIMS,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise AuthenticationFailed() from exc
        # Decoded once, header and claims together (the token is parsed once, not twice).
        if "crit" in decoded["header"]:
            raise AuthenticationFailed()  # no extension is understood here
        claims: dict[str, Any] = decoded["payload"]
        return claims

    def _checked(self, verified: _Verified, kind: str) -> AccessClaims:
        """What may change between two uses of one token: the time, and what it is used for."""
        if verified.claims is None or verified.kind != kind:
            raise AuthenticationFailed()
        if kind == ACCESS and verified.claims.session_id is None:
            raise AuthenticationFailed()  # every access token names its session
        now = self._clock.now().timestamp()
        if now >= verified.exp or now < verified.nbf or verified.iat > now + MAX_CLOCK_SKEW_SECONDS:
            raise AuthenticationFailed()
        return verified.claims


@dataclass(frozen=True, slots=True)
class _Verified:
    """A verified token's claims, parsed once: ``claims`` is None when they are malformed."""

    kind: object
    iat: float
    nbf: float
    exp: float
    claims: AccessClaims | None


def _parsed(claims: dict[str, Any]) -> _Verified:
    malformed = _Verified(None, math.nan, math.nan, math.nan, None)
    times = (claims["iat"], claims["nbf"], claims["exp"])
    if not all(isinstance(t, int | float) and not isinstance(t, bool) for t in times):
        return malformed
    iat, nbf, exp = (float(t) for t in times)
    if not all(math.isfinite(t) for t in (iat, nbf, exp)):
        return malformed
    if not isinstance(claims["sub"], str) or not isinstance(claims["jti"], str):
        return malformed
    sid = claims.get("sid")
    if sid is not None and not isinstance(sid, str):
        return malformed
    try:
        user_id = uuid.UUID(claims["sub"])
        session_id = uuid.UUID(sid) if sid is not None else None
        issued_at = datetime.fromtimestamp(iat, tz=UTC)
        expires_at = datetime.fromtimestamp(exp, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return malformed
    parsed = AccessClaims(
        user_id=user_id,
        issued_at=issued_at,
        token_id=claims["jti"],
        session_id=session_id,
        expires_at=expires_at,
    )
    return _Verified(claims.get("type"), iat, nbf, exp, parsed)
