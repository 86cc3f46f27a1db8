"""FastAPI dependencies: take use cases from the container and the caller from the token."""

from __future__ import annotations

from typing import Annotated, cast

import structlog
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from domain.errors import AuthenticationFailed
from domain.user import User
from entrypoints.container import Container

_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)

MAX_TOKEN_LENGTH = 8192


def container_of(request: Request) -> Container:
    return cast(Container, request.app.state.container)


async def get_container(request: Request) -> Container:
    # async: FastAPI would run a plain function in its thread pool, a hop per request.
    return container_of(request)


ContainerDep = Annotated[Container, Depends(get_container)]


async def current_user(request: Request, token: Annotated[str | None, Depends(_bearer)]) -> User:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise AuthenticationFailed()
    # Read here, not as a dependency of its own: one dependency fewer to solve per request.
    user = await container_of(request).get_current_user().execute(token)
    request.state.user_id = str(user.id)
    structlog.contextvars.bind_contextvars(user_id=str(user.id))
    return user


CurrentUser = Annotated[User, Depends(current_user)]
