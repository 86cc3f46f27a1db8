from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from application.use_cases.register_user import RegisterUserCommand
from domain.role import Role
from entrypoints.http.dependencies import ContainerDep, CurrentUser
from entrypoints.http.envelope import error_responses
from entrypoints.http.pagination import PageParams
from entrypoints.http.paths import API_PREFIX
from entrypoints.http.schemas import PageOut, UserCreate, UserOut, UserUpdate

router = APIRouter(prefix=f"{API_PREFIX}/users", tags=["users"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    summary="Register an account",
    responses=error_responses(403, 409, 422, 503),
)
async def register(body: UserCreate, container: ContainerDep) -> UserOut:
    """Create an ordinary account. The email is stored lower-cased and must be unused
    (409 otherwise); the password is 8 to 128 characters. 403 while registration is closed."""
    user = await container.register_user().execute(
        RegisterUserCommand(email=body.email, password=body.password, full_name=body.full_name)
    )
    return UserOut.of(user)


@router.get(
    "",
    response_model=PageOut[UserOut],
    summary="List accounts (administrators)",
    responses=error_responses(401, 403, 422, 503),
)
async def list_users(
    user: CurrentUser,
    container: ContainerDep,
    page: PageParams,
    email: Annotated[str | None, Query(max_length=320, description="Exact email")] = None,
    is_active: bool | None = None,
    role: Role | None = None,
) -> PageOut[UserOut]:
    """A page of accounts, newest first. Administrators only (403 for anyone else)."""
    found = await container.list_users().execute(user, page, email, is_active, role)
    return PageOut.of(found, [UserOut.of(u) for u in found.items])


@router.get(
    "/me",
    response_model=UserOut,
    summary="Read your own account",
    responses=error_responses(401, 503),
)
async def read_me(user: CurrentUser) -> UserOut:
    """The account the bearer token belongs to."""
    return UserOut.of(user)


@router.patch(
    "/me",
    response_model=UserOut,
    summary="Change your own account",
    responses=error_responses(401, 403, 409, 422, 503),
)
async def update_me(body: UserUpdate, user: CurrentUser, container: ContainerDep) -> UserOut:
    """Change the fields sent. A new password needs `current_password` and ends every
    session; a taken email is a 409; `roles` and `is_active` are for administrators (403)."""
    updated = await container.update_user().execute(user, user.id, body.changes())
    return UserOut.of(updated)


@router.delete(
    "/me",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete your own account",
    responses=error_responses(401, 409, 503),
)
async def delete_me(user: CurrentUser, container: ContainerDep) -> None:
    """Delete your account and all your items. The last active administrator cannot (409)."""
    await container.delete_user().execute(user, user.id)


@router.get(
    "/{user_id}",
    response_model=UserOut,
    summary="Read an account",
    responses=error_responses(401, 404, 422, 503),
)
async def read_user(user_id: uuid.UUID, user: CurrentUser, container: ContainerDep) -> UserOut:
    """Your own account, or any account for an administrator; 404 otherwise."""
    return UserOut.of(await container.get_user().execute(user, user_id))


@router.patch(
    "/{user_id}",
    response_model=UserOut,
    summary="Change an account",
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
async def update_user(
    user_id: uuid.UUID, body: UserUpdate, user: CurrentUser, container: ContainerDep
) -> UserOut:
    """Yourself, or anyone as an administrator (404 otherwise). Only an administrator changes
    `roles` or `is_active`; the last active administrator cannot be demoted (409)."""
    updated = await container.update_user().execute(user, user_id, body.changes())
    return UserOut.of(updated)


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete an account",
    responses=error_responses(401, 404, 409, 422, 503),
)
async def delete_user(user_id: uuid.UUID, user: CurrentUser, container: ContainerDep) -> None:
    """Delete an account and its items: yourself, or anyone as an administrator."""
    await container.delete_user().execute(user, user_id)
