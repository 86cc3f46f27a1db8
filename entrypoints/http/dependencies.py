"""FastAPI dependencies: take use cases from the container and the caller from the token."""

from __future__ import annotations

from typing import Annotated, cast

import structlog
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from application.use_cases.sessions.get_current_user import GetCurrentUserCommand
from domain.errors import AuthenticationFailed
from domain.user import User
from entrypoints.container import Container

MAX_TOKEN_LENGTH = 8192


def client_address(request: Request) -> str | None:
    """The client's address, as the client-address middleware resolved it."""
    return request.client.host if request.client else None


def container_of(request: Request) -> Container:
    return cast(Container, request.app.state.container)


async def get_container(request: Request) -> Container:
    # async: FastAPI would run a plain function in its thread pool, a hop per request.
    return container_of(request)


ContainerDep = Annotated[Container, Depends(get_container)]


class _CurrentUser(OAuth2PasswordBearer):
    """The caller, from the bearer token. The scheme is documented as OAuth2's password flow,
    and the token read and resolved in this one dependency: FastAPI solves every level of
    dependencies on every request."""

    async def __call__(self, request: Request) -> User:  # type: ignore[override]
        token = await super().__call__(request)
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise AuthenticationFailed()
        user = await container_of(request).get_current_user().execute(GetCurrentUserCommand(token))
        request.state.user_id = str(user.id)
        structlog.contextvars.bind_contextvars(user_id=str(user.id))
        return user


current_user = _CurrentUser(
    tokenUrl="/api/v1/auth/login", scheme_name="OAuth2PasswordBearer", auto_error=False
)


CurrentUser = Annotated[User, Depends(current_user)]
