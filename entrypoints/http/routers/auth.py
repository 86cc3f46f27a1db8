from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response, status

from application.use_cases.login import LoginCommand, TokenPair
from entrypoints.http.dependencies import ContainerDep, CurrentUser
from entrypoints.http.envelope import error_responses
from entrypoints.http.paths import API_PREFIX
from entrypoints.http.schemas import RefreshRequest, TokenPairOut

router = APIRouter(prefix=f"{API_PREFIX}/auth", tags=["auth"])


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
    responses=error_responses(401, 422, 429, 503),
)
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=320, description="The account's email")],
    password: Annotated[str, Form(max_length=1024)],
    container: ContainerDep,
) -> TokenPairOut:
    """Exchange an email (form field `username`) and password for an access token and a
    refresh token. Every failure is the same 401 and takes the same time. Too many failures
    from one address or for one account (`LOGIN_RATE_LIMIT`) are a 429 with `Retry-After`."""
    address = request.client.host if request.client else None
    pair = await container.login().execute(
        LoginCommand(email=username, password=password, client_address=address)
    )
    return _pair_out(pair)


@router.post(
    "/refresh",
    response_model=TokenPairOut,
    summary="Trade a refresh token for a new pair",
    responses=error_responses(401, 422, 503),
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
    responses=error_responses(401, 422, 503),
)
async def logout(body: RefreshRequest, container: ContainerDep) -> None:
    """End the session the refresh token belongs to; its refresh tokens stop working."""
    await container.logout().execute(body.refresh_token)


@router.post(
    "/logout-all",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="End every session",
    responses=error_responses(401, 503),
)
async def logout_all(user: CurrentUser, container: ContainerDep) -> None:
    """End all of your sessions: every refresh token and every access token, at once."""
    await container.logout_all().execute(user)
