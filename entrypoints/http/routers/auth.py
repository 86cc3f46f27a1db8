from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response, status

from application.use_cases.login import LoginCommand, TokenPair
from domain.errors import AuthenticationFailed, TooManyAttempts
from entrypoints.http.dependencies import ContainerDep, CurrentUser
from entrypoints.http.envelope import FieldError
from entrypoints.http.openapi import documented
from entrypoints.http.paths import API_PREFIX
from entrypoints.http.schemas import EXAMPLE_PASSWORD, RefreshRequest, TokenPairOut

router = APIRouter(prefix=f"{API_PREFIX}/auth", tags=["auth"])

NO_REFRESH_TOKEN = FieldError(field="refresh_token", message="Field required", type="missing")
LOGIN_FORM_EXAMPLE = {"username": "ada@example.com", "password": EXAMPLE_PASSWORD}


def _pair_out(pair: TokenPair) -> TokenPairOut:
    return TokenPairOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        token_type=pair.token_type,
        expires_in=pair.expires_in,
    )


@router.post(
    "/login",
    response_model=TokenPairOut,
    summary="Log in with email and password",
    operation_id="login",
    responses=documented(
        200,
        "An access token and a refresh token",
        errors=(400, 401, 413, 422, 429, 503),
        examples={422: FieldError(field="password", message="Field required", type="missing")},
    ),
    openapi_extra={
        "requestBody": {
            "content": {"application/x-www-form-urlencoded": {"example": LOGIN_FORM_EXAMPLE}}
        }
    },
)
async def login(
    request: Request,
    username: Annotated[
        str, Form(max_length=320, description="The account's email", examples=["ada@example.com"])
    ],
    password: Annotated[str, Form(max_length=1024, examples=[EXAMPLE_PASSWORD])],
    container: ContainerDep,
) -> TokenPairOut:
    """Exchange an email (form field `username`) and password for an access token and a
    refresh token. Every failure is the same 401 and takes the same time. Too many failures
    from one address or for one account (`LOGIN_RATE_LIMIT`) are a 429 with `Retry-After`."""
    address = request.client.host if request.client else None
    try:
        pair = await container.login().execute(
            LoginCommand(email=username, password=password, client_address=address)
        )
    except TooManyAttempts:
        container.metrics().login_throttled.inc()
        raise
    except AuthenticationFailed:
        container.metrics().login_failures.inc()
        raise
    return _pair_out(pair)


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
    ),
)
async def refresh(body: RefreshRequest, container: ContainerDep) -> TokenPairOut:
    """The refresh token is spent: it works once. Presenting a spent one again ends its
    whole session, the newest token included. Every failure is the same 401."""
    return _pair_out(await container.refresh_tokens().execute(body.refresh_token))


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
async def logout(body: RefreshRequest, container: ContainerDep) -> None:
    """End the session the refresh token belongs to; its refresh tokens stop working. Ending
    a session that was already ended is not an error; an expired or unknown refresh token
    is a 401."""
    await container.logout().execute(body.refresh_token)


@router.post(
    "/logout-all",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="End every session",
    operation_id="logoutAll",
    responses=documented(204, "Every session is over", errors=(401, 503)),
)
async def logout_all(user: CurrentUser, container: ContainerDep) -> None:
    """End all of your sessions: every refresh token and every access token, at once."""
    await container.logout_all().execute(user)
