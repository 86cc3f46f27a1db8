from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from application.use_cases.accounts.delete_user import DeleteUserCommand
from application.use_cases.accounts.get_user import GetUserCommand
from application.use_cases.accounts.list_users import ListUsersCommand
from application.use_cases.accounts.register_user import RegisterUserCommand
from application.use_cases.accounts.update_user import UpdateUserCommand
from domain.errors import PermissionDenied, RegistrationClosed, TooManyAttempts, UserNotFound
from domain.role import Role
from entrypoints.http.account_answers import (
    ADMIN_FIELDS_ONLY,
    BAD_EMAIL,
    EMAIL_TAKEN,
    LAST_ADMIN,
    USER_BUSY,
    read_answer,
    user_answer,
)
from entrypoints.http.bodies import json_body
from entrypoints.http.dependencies import (
    CurrentUser,
    DeleteUserCase,
    GetUserCase,
    ListUsersCase,
    RegisterUserCase,
    UpdateUserCase,
    client_address,
    origin_of,
)
from entrypoints.http.envelope import FieldError
from entrypoints.http.etags import (
    IF_NONE_MATCH_PARAMETER,
    IfMatch,
)
from entrypoints.http.openapi import (
    ETAG_HEADER,
    LOGIN_WITH_NEW_ACCOUNT,
    documented,
    links_from_created,
)
from entrypoints.http.pagination import BAD_CURSOR, PageParams
from entrypoints.http.paths import API_PREFIX
from entrypoints.http.schemas.common import StorableEmail
from entrypoints.http.schemas.users import UserCreate, UserOut, UserPage, UserUpdate

router = APIRouter(prefix=f"{API_PREFIX}/users", tags=["users"])

NOT_FOUND = UserNotFound()
BAD_USER_ID = FieldError(
    field="user_id",
    message="Input should be a valid UUID, invalid character: found `n` at 0",
    type="uuid_parsing",
)
TOO_MANY_REGISTRATIONS = TooManyAttempts(3600, "Too many registrations: try again later")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    summary="Register an account",
    operation_id="registerUser",
    responses=documented(
        201,
        "The new account",
        errors=(400, 403, 409, 413, 422, 429, 503),
        examples={
            403: RegistrationClosed(),
            409: EMAIL_TAKEN,
            422: BAD_EMAIL,
            429: TOO_MANY_REGISTRATIONS,
        },
        links=links_from_created("User", "user_id", etag=True) | LOGIN_WITH_NEW_ACCOUNT,
        headers=ETAG_HEADER,
    ),
)
async def register(request: Request, body: UserCreate, use_case: RegisterUserCase) -> Response:
    """Create an ordinary account. The email is stored lower-cased and must be unused
    (409 otherwise); the password is 8 to 128 characters. 403 while registration is closed.
    Registrations per client address are limited (`REGISTRATION_RATE_LIMIT`; 429 with
    `Retry-After`); when every password-hashing thread is busy and its queue full, a 503
    with `Retry-After`, at once. A welcome mail and a link to verify the address are
    recorded with the account and sent by a background job."""
    user = await use_case.execute(
        RegisterUserCommand(
            email=body.email,
            password=body.password,
            full_name=body.full_name,
            client_address=client_address(request),
            origin=origin_of(request),
        )
    )
    return user_answer(user, status_code=201)


@router.get(
    "",
    response_model=UserPage,
    summary="List accounts (administrators)",
    operation_id="listUsers",
    responses=documented(
        200,
        "A page of accounts",
        errors=(401, 403, 422, 503),
        examples={
            403: PermissionDenied("Only an administrator may list users"),
            422: [
                FieldError(field="role", message="Input should be 'user' or 'admin'", type="enum"),
                BAD_CURSOR,
            ],
        },
    ),
)
async def list_users(
    user: CurrentUser,
    use_case: ListUsersCase,
    page: PageParams,
    email: Annotated[
        StorableEmail | None,
        Query(
            max_length=320,
            description="Exact email, matched as stored (trimmed, lower-cased); not an email: 422",
        ),
    ] = None,
    is_active: Annotated[bool | None, Query(description="Active or deactivated accounts")] = None,
    role: Annotated[Role | None, Query(description="Accounts holding this role")] = None,
) -> Response:
    """A page of accounts, newest first. Administrators only (403 for anyone else)."""
    found = await use_case.execute(
        ListUsersCommand(
            actor=user,
            page=page.request(),
            email=email,
            is_active=is_active,
            role=role,
            cursor=page.cursor,
        )
    )
    return json_body(UserPage.of(found, [UserOut.of(u) for u in found.items]))


@router.get(
    "/{user_id}",
    response_model=UserOut,
    summary="Read an account",
    operation_id="getUser",
    responses=documented(
        200,
        "The account",
        errors=(401, 404, 422, 503),
        examples={404: NOT_FOUND, 422: BAD_USER_ID},
        headers=ETAG_HEADER,
        not_modified=True,
    ),
    openapi_extra={"parameters": [IF_NONE_MATCH_PARAMETER]},
)
async def read_user(
    request: Request, user_id: uuid.UUID, user: CurrentUser, use_case: GetUserCase
) -> Response:
    """Your own account, or any account for an administrator; 404 otherwise. With
    `If-None-Match` naming the current `ETag` (or `*`), a 304 with no body."""
    return read_answer(await use_case.execute(GetUserCommand(actor=user, user_id=user_id)), request)


@router.patch(
    "/{user_id}",
    response_model=UserOut,
    summary="Change an account",
    operation_id="updateUser",
    responses=documented(
        200,
        "The account as changed",
        errors=(400, 401, 403, 404, 409, 412, 413, 422, 429, 503),
        examples={
            403: ADMIN_FIELDS_ONLY,
            404: NOT_FOUND,
            409: [EMAIL_TAKEN, LAST_ADMIN, USER_BUSY],
            422: [BAD_USER_ID, BAD_EMAIL],
        },
        headers=ETAG_HEADER,
    ),
)
async def update_user(
    request: Request,
    user_id: uuid.UUID,
    body: UserUpdate,
    user: CurrentUser,
    use_case: UpdateUserCase,
    if_match: IfMatch,
) -> Response:
    """Yourself, or anyone as an administrator (404 otherwise). Only an administrator changes
    `roles` or `is_active`; the last active administrator cannot be demoted (409). Your own
    new password needs `current_password`, counted like a login (429 at the limit). A new
    email is unverified, and a link to verify it is mailed to it. With `If-Match`, only
    while the account's `ETag` is one it names (or `*`): otherwise a 412."""
    updated = await use_case.execute(
        UpdateUserCommand(
            actor=user,
            user_id=user_id,
            changes=body.changes(),
            expected_versions=if_match,
            client_address=client_address(request),
            origin=origin_of(request),
        )
    )
    return user_answer(updated)


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete an account",
    operation_id="deleteUser",
    responses=documented(
        204,
        "Deleted, with the account's items",
        errors=(401, 404, 409, 412, 422, 503),
        examples={404: NOT_FOUND, 409: [LAST_ADMIN, USER_BUSY], 422: BAD_USER_ID},
    ),
)
async def delete_user(
    request: Request,
    user_id: uuid.UUID,
    user: CurrentUser,
    use_case: DeleteUserCase,
    if_match: IfMatch,
) -> None:
    """Delete an account and its items: yourself, or anyone as an administrator (404
    otherwise). The last active administrator cannot be deleted (409). With `If-Match`,
    only while the account's `ETag` is one it names (or `*`): otherwise a 412."""
    await use_case.execute(
        DeleteUserCommand(
            actor=user, user_id=user_id, expected_versions=if_match, origin=origin_of(request)
        )
    )
