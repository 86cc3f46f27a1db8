"""The second factor: TOTP set-up, confirm, disable, recovery codes, and a login's second
step."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordBearer, SecurityScopes

from application.use_cases.mfa.confirm_totp import ConfirmTotpCommand
from application.use_cases.mfa.disable_totp import DisableTotpCommand, SecondFactorRequired
from application.use_cases.mfa.renew_recovery_codes import RenewRecoveryCodesCommand
from application.use_cases.mfa.setup_totp import SetupTotpCommand
from application.use_cases.mfa.verify_mfa import VerifyMfaCommand
from domain.errors import AuthenticationFailed, TooManyAttempts
from domain.mfa import InvalidCode, SecondFactorAlreadyOn, SecondFactorOff
from domain.user import User
from entrypoints.http.dependencies import (
    MAX_TOKEN_LENGTH,
    CurrentUser,
    client_address,
    container_of,
    current_user,
    origin_of,
)
from entrypoints.http.envelope import FieldError
from entrypoints.http.openapi import documented, links_from_token_pair
from entrypoints.http.paths import API_PREFIX
from entrypoints.http.routers.auth import pair_out
from entrypoints.http.schemas.auth import TokenPairOut
from entrypoints.http.schemas.mfa import (
    CodeIn,
    DisableIn,
    RecoveryCodesOut,
    TotpConfirmedOut,
    TotpSetupOut,
    VerifyIn,
)

router = APIRouter(prefix=f"{API_PREFIX}/auth/mfa", tags=["auth"])

BAD_CODE = FieldError(field="code", message=InvalidCode().message, type="invalid_code")
THROTTLED = TooManyAttempts(60)


# The same scheme as every protected route, for the routes that also take a set-up token.
setup_bearer = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/login", scheme_name="OAuth2PasswordBearer", auto_error=False
)


async def setup_caller(
    request: Request, token: Annotated[str | None, Depends(setup_bearer)]
) -> tuple[User, str | None]:
    """The caller of set-up and confirm: an access token's user, or the user of a login's
    set-up token (returned too, to be spent by confirm)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise AuthenticationFailed()
    try:
        # No scope: a personal access token is refused here, as on every route outside them.
        return await current_user(request, SecurityScopes()), None
    except AuthenticationFailed:
        user = await container_of(request).resolve_setup_token().execute(token)
        return user, token


SetupCaller = Annotated[tuple[User, str | None], Depends(setup_caller)]


@router.post(
    "/totp/setup",
    response_model=TotpSetupOut,
    summary="Set up a TOTP second factor",
    operation_id="setupTotp",
    responses=documented(
        200,
        "A new secret, pending until confirmed",
        errors=(401, 409, 503),
        examples={409: SecondFactorAlreadyOn()},
    ),
)
async def setup_totp(request: Request, caller: SetupCaller) -> TotpSetupOut:
    """A new TOTP secret (RFC 6238: 30 seconds, six digits, SHA-1), its `otpauth://` URI and
    the URI as an SVG QR code, for an authenticator app. It stays pending, and login is
    unchanged, until a code from it is confirmed; setting up again replaces a pending one.
    409 while a second factor is on. The bearer is an access token, or the `mfa_token` of
    a login that answered `setup_required`. The secret is stored encrypted."""
    user, _ = caller
    made = (
        await container_of(request)
        .setup_totp()
        .execute(SetupTotpCommand(user=user, origin=origin_of(request)))
    )
    return TotpSetupOut(secret=made.secret, otpauth_uri=made.otpauth_uri, qr_svg=made.qr_svg)


@router.post(
    "/totp/confirm",
    response_model=TotpConfirmedOut,
    summary="Turn the TOTP second factor on",
    operation_id="confirmTotp",
    responses=documented(
        200,
        "On; ten recovery codes, shown this once (and the token pair, after a set-up login)",
        errors=(400, 401, 409, 413, 422, 429, 503),
        examples={409: SecondFactorOff(), 422: BAD_CODE, 429: THROTTLED},
    ),
)
async def confirm_totp(request: Request, body: CodeIn, caller: SetupCaller) -> TotpConfirmedOut:
    """A code from the pending secret turns the second factor on, and ten single-use recovery
    codes are returned, once. A wrong code is a 422; attempts are counted like logins (429
    with `Retry-After`). With a login's set-up `mfa_token` as the bearer, the login goes on:
    the token is spent and `tokens` holds the pair."""
    user, setup_token = caller
    done = (
        await container_of(request)
        .confirm_totp()
        .execute(
            ConfirmTotpCommand(
                code=body.code,
                user=None if setup_token else user,
                setup_token=setup_token,
                client_address=client_address(request),
                origin=origin_of(request),
            )
        )
    )
    tokens = pair_out(done.tokens) if done.tokens is not None else None
    return TotpConfirmedOut(recovery_codes=done.recovery_codes, tokens=tokens)


@router.post(
    "/totp/disable",
    status_code=204,
    summary="Turn the TOTP second factor off",
    operation_id="disableTotp",
    responses=documented(
        204,
        "Off: the secret and the recovery codes are deleted",
        errors=(400, 401, 403, 409, 413, 422, 429, 503),
        examples={403: SecondFactorRequired(), 409: SecondFactorOff(), 422: BAD_CODE},
    ),
)
async def disable_totp(request: Request, body: DisableIn, user: CurrentUser) -> None:
    """Needs your password and a code (TOTP or a recovery code); each wrong one is a 422,
    and each is counted like a login. 403 when your role requires a second factor."""
    await (
        container_of(request)
        .disable_totp()
        .execute(
            DisableTotpCommand(
                user=user,
                password=body.password,
                code=body.code,
                client_address=client_address(request),
                origin=origin_of(request),
            )
        )
    )


@router.post(
    "/recovery-codes",
    response_model=RecoveryCodesOut,
    summary="Renew the recovery codes",
    operation_id="renewRecoveryCodes",
    responses=documented(
        200,
        "Ten new recovery codes, shown this once; the old ones no longer work",
        errors=(400, 401, 409, 413, 422, 429, 503),
        examples={409: SecondFactorOff(), 422: BAD_CODE, 429: THROTTLED},
    ),
)
async def renew_recovery_codes(
    request: Request, body: CodeIn, user: CurrentUser
) -> RecoveryCodesOut:
    """For a code (TOTP or recovery), ten new recovery codes; every old one stops working."""
    codes = (
        await container_of(request)
        .renew_recovery_codes()
        .execute(
            RenewRecoveryCodesCommand(
                user=user,
                code=body.code,
                client_address=client_address(request),
                origin=origin_of(request),
            )
        )
    )
    return RecoveryCodesOut(recovery_codes=codes)


@router.post(
    "/verify",
    response_model=TokenPairOut,
    summary="Log in: the second step",
    operation_id="verifyMfa",
    responses=documented(
        200,
        "An access token and a refresh token",
        errors=(400, 401, 413, 422, 429, 503),
        examples={429: THROTTLED},
        links=links_from_token_pair(),
    ),
)
async def verify_mfa(request: Request, body: VerifyIn) -> TokenPairOut:
    """The login's `mfa_token` and a TOTP code (or an unused recovery code) give the token
    pair. The token works once, for five minutes; a TOTP code is accepted once, from the
    30-second step before to the one after the server's clock; a recovery code once ever.
    Any failure is the same 401 (a wrong code leaves the token usable); attempts are
    counted like logins, before the code is checked (429 with `Retry-After`)."""
    pair = (
        await container_of(request)
        .verify_mfa()
        .execute(
            VerifyMfaCommand(
                mfa_token=body.mfa_token,
                code=body.code,
                client_address=client_address(request),
                origin=origin_of(request),
            )
        )
    )
    return pair_out(pair)
