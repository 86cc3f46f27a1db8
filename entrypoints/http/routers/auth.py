from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form

from application.use_cases.login import LoginCommand
from entrypoints.http.dependencies import ContainerDep
from entrypoints.http.envelope import error_responses
from entrypoints.http.schemas import TokenPairOut

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/login",
    response_model=TokenPairOut,
    summary="Log in with email and password",
    responses=error_responses(401, 422, 503),
)
async def login(
    username: Annotated[str, Form(max_length=320, description="The account's email")],
    password: Annotated[str, Form(max_length=1024)],
    container: ContainerDep,
) -> TokenPairOut:
    """Exchange an email (form field `username`) and password for an access token and a
    refresh token. Every failure is the same 401 and takes the same time."""
    pair = await container.login().execute(LoginCommand(email=username, password=password))
    return TokenPairOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        token_type=pair.token_type,
        expires_in=pair.expires_in,
    )
