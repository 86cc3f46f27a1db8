from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response, status

from application.use_cases.mail.confirm_password_reset import ConfirmPasswordResetCommand
from application.use_cases.mail.request_password_reset import RequestPasswordResetCommand
from application.use_cases.mail.resend_verification import ResendVerificationCommand
from application.use_cases.mail.verify_email import VerifyEmailCommand
from application.use_cases.mfa.challenge import MfaChallenge
from application.use_cases.sessions.login import LoginCommand, TokenPair
from application.use_cases.sessions.logout import LogoutCommand
from application.use_cases.sessions.logout_all import LogoutAllCommand
from application.use_cases.sessions.refresh_tokens import RefreshTokensCommand
from domain.errors import (
    AuthenticationFailed,
    EmailNotVerified,
    InvalidEmail,
    InvalidToken,
    TooManyAttempts,
    WeakPassword,
)
from entrypoints.http.dependencies import (
    ConfirmPasswordResetCase,
    CurrentUser,
    LoginCase,
    LogoutAllCase,
    LogoutCase,
    MetricsDep,
    RefreshTokensCase,
    RequestPasswordResetCase,
    ResendVerificationCase,
    VerifyEmailCase,
    client_address,
    origin_of,
)
from entrypoints.http.envelope import FieldError
from entrypoints.http.forms import form_fields
from entrypoints.http.openapi import documented, links_from_token_pair
from entrypoints.http.paths import API_PREFIX
from entrypoints.http.schemas.auth import (
    RESET_REQUESTED,
    AcceptedOut,
    PasswordResetConfirm,
    PasswordResetRequest,
    RefreshRequest,
    TokenPairOut,
    VerifyEmailRequest,
)
from entrypoints.http.schemas.common import EXAMPLE_PASSWORD, StorableText
from entrypoints.http.schemas.mfa import LoginOut, MfaChallengeOut

router = APIRouter(prefix=f"{API_PREFIX}/auth", tags=["auth"])

NO_REFRESH_TOKEN = FieldError(field="refresh_token", message="Field required", type="missing")
INVALID_TOKEN = InvalidToken()
BAD_EMAIL = FieldError(field="email", message=InvalidEmail().message, type="value_error")
_short = WeakPassword("Password must be at least 8 characters", field="new_password")
WEAK_NEW_PASSWORD = FieldError(field=_short.field, message=_short.message, type="value_error")
RESEND_THROTTLED = TooManyAttempts(60, "Too many verification mails: try again later")
LOGIN_FORM_EXAMPLE = {"username": "ada@example.com", "password": EXAMPLE_PASSWORD}


def pair_out(pair: TokenPair) -> TokenPairOut:
    return TokenPairOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        token_type=pair.token_type,
        expires_in=pair.expires_in,
    )


@router.post(
    "/login",
    response_model=LoginOut,
    summary="Log in with email and password",
    operation_id="login",
    responses=documented(
        200,
        "An access token and a refresh token; or, for a user with a second factor (or whose "
        "role requires one), `mfa_required` and an `mfa_token` instead",
        errors=(400, 401, 403, 413, 422, 429, 503),
        examples={
            403: EmailNotVerified(),
            422: FieldError(field="password", message="Field required", type="missing"),
        },
        links=links_from_token_pair(),
    ),
    openapi_extra={
        "requestBody": {
            "content": {"application/x-www-form-urlencoded": {"example": LOGIN_FORM_EXAMPLE}}
        }
    },
    dependencies=[Depends(form_fields(*LOGIN_FORM_EXAMPLE))],
)
async def login(
    request: Request,
    username: Annotated[
        StorableText,
        Form(max_length=320, description="The account's email", examples=["ada@example.com"]),
    ],
    password: Annotated[StorableText, Form(max_length=1024, examples=[EXAMPLE_PASSWORD])],
    use_case: LoginCase,
    metrics: MetricsDep,
) -> LoginOut:
    """Exchange an email (form field `username`) and password for an access token and a
    refresh token. Every failure is the same 401 and takes the same time. Attempts are
    counted before the password is checked: too many failures for one account or from one
    address for it (`LOGIN_RATE_LIMIT`), or from one address over all accounts
    (`LOGIN_ADDRESS_RATE_LIMIT`), are a 429 with `Retry-After`. When every password-hashing
    thread is busy and its queue full, a 503 with `Retry-After`, at once.
    With `REQUIRE_VERIFIED_EMAIL`, the right password on an unverified account is a 403.

    A user with a second factor on, or whose role is in `MFA_REQUIRED_ROLES`, gets no tokens
    here: `{mfa_required: true, mfa_token, expires_in}`, and then the pair from
    `POST /auth/mfa/verify` with a code. When the role requires a second factor and the user
    has none, `setup_required` is true and the `mfa_token` is the bearer of
    `POST /auth/mfa/totp/setup` and `POST /auth/mfa/totp/confirm` only; confirm answers the
    recovery codes and the pair. The `mfa_token` lasts five minutes and works once."""
    try:
        pair = await use_case.execute(
            LoginCommand(
                email=username,
                password=password,
                client_address=client_address(request),
                origin=origin_of(request),
            )
        )
    except TooManyAttempts:
        metrics.login_throttled.inc()
        raise
    except AuthenticationFailed:
        metrics.login_failures.inc()
        raise
    if isinstance(pair, MfaChallenge):
        challenge = MfaChallengeOut(
            mfa_token=pair.mfa_token, expires_in=pair.expires_in, setup_required=pair.setup_required
        )
        return LoginOut(challenge)
    return LoginOut(pair_out(pair))


@router.post(
    "/refresh",
    response_model=TokenPairOut,
    summary="Trade a refresh token for a new pair",
    operation_id="refreshTokens",
    responses=documented(
        200,
        "A new access token and refresh token",
        errors=(400, 401, 413, 422, 503),
        examples={422: NO_REFRESH_TOKEN},
        links=links_from_token_pair(),
    ),
)
async def refresh(
    request: Request, body: RefreshRequest, use_case: RefreshTokensCase
) -> TokenPairOut:
    """The refresh token is spent: it works once. Presenting a spent one again ends its
    whole session, the newest token included. Every failure is the same 401."""
    command = RefreshTokensCommand(body.refresh_token, origin=origin_of(request))
    return pair_out(await use_case.execute(command))


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="End one session",
    operation_id="logout",
    responses=documented(
        204,
        "The session is over",
        errors=(400, 401, 413, 422, 503),
        examples={422: NO_REFRESH_TOKEN},
    ),
)
async def logout(request: Request, body: RefreshRequest, use_case: LogoutCase) -> None:
    """End the session the refresh token belongs to; its refresh tokens stop working. Ending
    a session that was already ended is not an error; an expired or unknown refresh token
    is a 401."""
    await use_case.execute(LogoutCommand(body.refresh_token, origin=origin_of(request)))


@router.post(
    "/logout-all",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="End every session",
    operation_id="logoutAll",
    responses=documented(204, "Every session is over", errors=(401, 503)),
)
async def logout_all(request: Request, user: CurrentUser, use_case: LogoutAllCase) -> None:
    """End all of your sessions: every refresh token and every access token, at once."""
    await use_case.execute(LogoutAllCommand(actor=user, origin=origin_of(request)))


@router.post(
    "/password-reset/request",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=AcceptedOut,
    summary="Ask for a password reset link",
    operation_id="requestPasswordReset",
    responses=documented(
        202,
        "The same answer whether or not the address belongs to an account",
        errors=(400, 413, 422, 503),
        examples={422: BAD_EMAIL},
    ),
)
async def request_password_reset(
    body: PasswordResetRequest, use_case: RequestPasswordResetCase
) -> AcceptedOut:
    """When the address belongs to an active account, a link with a single-use token (30
    minutes) is mailed to it, at most three an hour. The answer, and the work done before
    it, are the same either way: it does not tell whether an account exists."""
    await use_case.execute(RequestPasswordResetCommand(body.email))
    return AcceptedOut(message=RESET_REQUESTED)


@router.post(
    "/password-reset/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Set a new password with a reset token",
    operation_id="confirmPasswordReset",
    responses=documented(
        204,
        "The password is changed and every session of the account is over",
        errors=(400, 413, 422, 503),
        examples={400: INVALID_TOKEN, 422: WEAK_NEW_PASSWORD},
    ),
)
async def confirm_password_reset(
    request: Request, body: PasswordResetConfirm, use_case: ConfirmPasswordResetCase
) -> None:
    """The token works once; an unknown, spent or expired one is a 400 `INVALID_TOKEN`. Every
    session of the account ends, access tokens included. A password that breaks the policy
    is a 422 and leaves the token usable."""
    await use_case.execute(
        ConfirmPasswordResetCommand(
            token=body.token, new_password=body.new_password, origin=origin_of(request)
        )
    )


@router.post(
    "/verify",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Verify your email address",
    operation_id="verifyEmail",
    responses=documented(
        204,
        "The address is verified",
        errors=(400, 413, 422, 503),
        examples={400: INVALID_TOKEN},
    ),
)
async def verify_email(
    request: Request, body: VerifyEmailRequest, use_case: VerifyEmailCase
) -> None:
    """Mark the address the token was mailed to as verified. The token works once, and only
    while the account still has that address; otherwise 400 `INVALID_TOKEN`."""
    await use_case.execute(VerifyEmailCommand(body.token, origin=origin_of(request)))


@router.post(
    "/verify/resend",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Mail a new verification link",
    operation_id="resendVerification",
    responses=documented(
        204,
        "A new link is on its way (nothing is sent when the address is verified already)",
        errors=(401, 429, 503),
        examples={429: RESEND_THROTTLED},
    ),
)
async def resend_verification(user: CurrentUser, use_case: ResendVerificationCase) -> None:
    """A new verification link for your address; at most three links an hour (429 with
    `Retry-After` after that)."""
    await use_case.execute(ResendVerificationCommand(actor=user))
