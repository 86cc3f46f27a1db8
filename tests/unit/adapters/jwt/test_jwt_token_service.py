"""Every way a token can be wrong gives the same AuthenticationFailed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import timedelta
from typing import Any

import jwt
import pytest

from adapters.jwt.token_service import VERIFIED_CACHE_SIZE, PyJwtTokenService
from domain.errors import AuthenticationFailed
from domain.role import Role
from tests.support.clock import FixedClock

SECRET = "s" * 64
USER = uuid.UUID("0b7e7dc4-3b56-4c43-9a3e-9f59a4a8a3f1")
SESSION = uuid.UUID("5f0c1d2e-8a4b-4c6d-9e7f-a1b2c3d4e5f6")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def service(clock: FixedClock) -> PyJwtTokenService:
    return PyJwtTokenService(
        secret=SECRET,
        algorithm="HS256",
        issuer="keel",
        audience="keel-api",
        access_ttl=timedelta(minutes=15),
        refresh_ttl=timedelta(days=7),
        clock=clock,
    )


def claims_of(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return decoded


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_access_token_round_trip(service: PyJwtTokenService, clock: FixedClock) -> None:
    issued = service.issue_access(USER, frozenset({Role.USER, Role.ADMIN}), SESSION)
    claims = service.decode_access(issued.token)
    assert claims.user_id == USER
    assert claims.session_id == SESSION
    assert abs(claims.issued_at - clock.now()) <= timedelta(microseconds=1)
    assert issued.expires_in == 900
    raw = claims_of(issued.token)
    assert raw["roles"] == ["admin", "user"]
    assert raw["type"] == "access"
    assert raw["sid"] == str(SESSION)
    assert {"exp", "nbf", "iat", "iss", "aud", "sub", "jti"} <= set(raw)


def test_issued_at_keeps_microseconds(service: PyJwtTokenService, clock: FixedClock) -> None:
    clock.advance(timedelta(microseconds=123_457))
    claims = service.decode_access(service.issue_access(USER, frozenset(), SESSION).token)
    assert claims.issued_at == clock.now()


def test_every_token_has_its_own_id(service: PyJwtTokenService) -> None:
    ids = {
        service.decode_access(service.issue_access(USER, frozenset(), SESSION).token).token_id
        for _ in range(5)
    }
    assert len(ids) == 5


def test_refresh_and_access_are_not_interchangeable(service: PyJwtTokenService) -> None:
    refresh = service.issue_refresh(USER).token
    access = service.issue_access(USER, frozenset(), SESSION).token
    assert service.decode_refresh(refresh).user_id == USER
    with pytest.raises(AuthenticationFailed):
        service.decode_access(refresh)
    with pytest.raises(AuthenticationFailed):
        service.decode_refresh(access)


def test_expires_exactly_at_exp(service: PyJwtTokenService, clock: FixedClock) -> None:
    token = service.issue_access(USER, frozenset(), SESSION).token
    clock.advance(timedelta(minutes=15) - timedelta(microseconds=1))
    service.decode_access(token)
    clock.advance(timedelta(microseconds=1))
    with pytest.raises(AuthenticationFailed):
        service.decode_access(token)


def test_not_valid_before_nbf(service: PyJwtTokenService, clock: FixedClock) -> None:
    token = service.issue_access(USER, frozenset(), SESSION).token
    clock.advance(timedelta(seconds=-5))
    with pytest.raises(AuthenticationFailed):
        service.decode_access(token)


def _valid_claims(clock: FixedClock) -> dict[str, Any]:
    now = clock.now().timestamp()
    return {
        "sub": str(USER),
        "iat": now,
        "nbf": int(now),
        "exp": int(now) + 600,
        "iss": "keel",
        "aud": "keel-api",
        "jti": "abc",
        "type": "access",
        "sid": str(SESSION),
    }


def _without(name: str) -> Any:
    return lambda claims: {k: v for k, v in claims.items() if k != name}


def _with(**changes: Any) -> Any:
    return lambda claims: {**claims, **changes}


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(_with(aud="someone-else"), id="wrong-audience"),
        pytest.param(_with(iss="evil"), id="wrong-issuer"),
        pytest.param(_with(type="refresh"), id="refresh-type"),
        pytest.param(_with(type="id"), id="unknown-type"),
        pytest.param(_with(sub="not-a-uuid"), id="sub-not-uuid"),
        pytest.param(_with(sub=42), id="sub-not-string"),
        pytest.param(_with(iat="yesterday"), id="iat-not-number"),
        pytest.param(_with(iat=10**12), id="iat-far-future"),
        pytest.param(lambda claims: {**claims, "iat": claims["iat"] + 31}, id="iat-31s-ahead"),
        pytest.param(_with(exp=1), id="expired"),
        pytest.param(_with(exp=float("nan")), id="exp-nan"),
        pytest.param(_with(exp=float("inf")), id="exp-infinite"),
        pytest.param(_with(sid="not-a-uuid"), id="sid-not-uuid"),
        pytest.param(_with(sid=7), id="sid-not-string"),
        *[
            pytest.param(_without(name), id=f"missing-{name}")
            for name in ["exp", "nbf", "iat", "iss", "aud", "sub", "jti", "type", "sid"]
        ],
    ],
)
def test_bad_claims_are_refused(service: PyJwtTokenService, clock: FixedClock, change: Any) -> None:
    token = jwt.encode(change(_valid_claims(clock)), SECRET, algorithm="HS256")
    with pytest.raises(AuthenticationFailed):
        service.decode_access(token)


def test_the_valid_hand_made_token_passes(service: PyJwtTokenService, clock: FixedClock) -> None:
    # The control for the table above: only the one change makes those tokens fail.
    token = jwt.encode(_valid_claims(clock), SECRET, algorithm="HS256")
    assert service.decode_access(token).user_id == USER


def test_iat_a_little_ahead_is_tolerated(service: PyJwtTokenService, clock: FixedClock) -> None:
    # The control for iat-31s-ahead: a clock 29 s fast is skew, not forgery.
    claims = _valid_claims(clock)
    token = jwt.encode({**claims, "iat": claims["iat"] + 29}, SECRET, algorithm="HS256")
    assert service.decode_access(token).user_id == USER


def test_another_key_is_refused(service: PyJwtTokenService, clock: FixedClock) -> None:
    token = jwt.encode(_valid_claims(clock), "k" * 48, algorithm="HS256")
    with pytest.raises(AuthenticationFailed):
        service.decode_access(token)


def test_another_algorithm_is_refused(service: PyJwtTokenService, clock: FixedClock) -> None:
    token = jwt.encode(_valid_claims(clock), SECRET, algorithm="HS512")
    with pytest.raises(AuthenticationFailed):
        service.decode_access(token)


def test_alg_none_is_refused(service: PyJwtTokenService, clock: FixedClock) -> None:
    token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(_valid_claims(clock))}."
    with pytest.raises(AuthenticationFailed):
        service.decode_access(token)


def test_an_unknown_crit_header_is_refused(service: PyJwtTokenService, clock: FixedClock) -> None:
    token = jwt.encode(
        _valid_claims(clock), SECRET, algorithm="HS256", headers={"crit": ["exp2"], "exp2": 1}
    )
    with pytest.raises(AuthenticationFailed):
        service.decode_access(token)


def test_any_crit_header_is_refused(service: PyJwtTokenService, clock: FixedClock) -> None:
    # PyJWT itself accepts crit=["b64"] with b64=true, so only the service's own check refuses it.
    header = b64({"alg": "HS256", "typ": "JWT", "crit": ["b64"], "b64": True})
    signing_input = f"{header}.{b64(_valid_claims(clock))}"
    mac = hmac.new(SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    signature = base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    with pytest.raises(AuthenticationFailed):
        service.decode_access(f"{signing_input}.{signature}")


def test_a_tampered_payload_is_refused(service: PyJwtTokenService) -> None:
    header, _, signature = service.issue_access(USER, frozenset(), SESSION).token.split(".")
    forged = {**claims_of(f"{header}.{_}.{signature}"), "roles": ["admin"]}
    with pytest.raises(AuthenticationFailed):
        service.decode_access(f"{header}.{b64(forged)}.{signature}")


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "ü.ö.ä", "x" * 9000, "..", "e30.e30.e30"])
def test_garbage_is_refused(service: PyJwtTokenService, token: str) -> None:
    with pytest.raises(AuthenticationFailed):
        service.decode_access(token)


def test_a_token_is_verified_once_and_checked_on_every_use(
    service: PyJwtTokenService, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    verified: list[str] = []
    decode_complete = jwt.decode_complete

    def counting(token: str, *args: Any, **kwargs: Any) -> Any:
        verified.append(token)
        return decode_complete(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode_complete", counting)
    token = service.issue_access(USER, frozenset(), SESSION).token
    for _ in range(3):
        assert service.decode_access(token).user_id == USER
    assert verified == [token]
    # What is kept is the signature's verdict; type and time are checked each time.
    with pytest.raises(AuthenticationFailed):
        service.decode_refresh(token)
    clock.advance(timedelta(minutes=15))
    with pytest.raises(AuthenticationFailed):
        service.decode_access(token)
    # A token one character away is verified for itself, and refused.
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(AuthenticationFailed):
        service.decode_access(tampered)
    assert verified == [token, tampered]


def test_the_verified_tokens_kept_are_bounded(service: PyJwtTokenService) -> None:
    tokens = [
        service.issue_access(USER, frozenset(), SESSION).token
        for _ in range(VERIFIED_CACHE_SIZE + 5)
    ]
    for token in tokens:
        service.decode_access(token)
    assert 0 < len(service._verified) <= VERIFIED_CACHE_SIZE
    # Every one of them still decodes, kept or not.
    assert {service.decode_access(token).user_id for token in tokens} == {USER}
