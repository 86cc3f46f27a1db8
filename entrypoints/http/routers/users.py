from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from application.use_cases.accounts.delete_user import DeleteUserCommand
from application.use_cases.accounts.get_user import GetUserCommand
from application.use_cases.accounts.list_users import ListUsersCommand
from application.use_cases.accounts.register_user import RegisterUserCommand
from application.use_cases.accounts.update_user import UpdateUserCommand
from domain.errors import (
    EmailAlreadyRegistered,
    InvalidEmail,
    LastAdministrator,
    PermissionDenied,
    RegistrationClosed,
    TooManyAttempts,
    UserNotFound,
    WrongCurrentPassword,
)
from domain.role import Role
from domain.user import User, UserBusy
from entrypoints.http.bodies import json_body
from entrypoints.http.dependencies import (
    CurrentUser,
    DeleteUserCase,
    GetUserCase,
    ListUsersCase,
    RegisterUserCase,
    UpdateUserCase,
    client_address,
)
from entrypoints.http.envelope import FieldError
from entrypoints.http.etags import (
    IF_NONE_MATCH_PARAMETER,
    IfMatch,
    etag_of,
    none_match_condition,
    none_match_fails,
)
from entrypoints.http.openapi import (
    ETAG_HEADER,
    LOGIN_WITH_NEW_ACCOUNT,
    documented,
    links_from_created,
)
from entrypoints.http.pagination import PageParams
from entrypoints.http.paths import API_PREFIX
from entrypoints.http.schemas import StorableEmail, UserCreate, UserOut, UserPage, UserUpdate

router = APIRouter(prefix=f"{API_PREFIX}/users", tags=["users"])

NOT_FOUND = UserNotFound().message
EMAIL_TAKEN = EmailAlreadyRegistered().message
LAST_ADMIN = LastAdministrator().message
USER_BUSY = UserBusy().message
ADMIN_FIELDS_ONLY = PermissionDenied("Only an administrator may change roles").message
BAD_USER_ID = FieldError(
    field="user_id",
    message="Input should be a valid UUID, invalid character: found `n` at 0",
    type="uuid_parsing",
)
BAD_EMAIL = FieldError(field="email", message=InvalidEmail().message, type="value_error")
TOO_MANY_REGISTRATIONS = TooManyAttempts(3600, "Too many registrations: try again later").message
_missing_current = WrongCurrentPassword("Current password is required to set a new one")
NO_CURRENT_PASSWORD = FieldError(
    field=_missing_current.field, message=_missing_current.message, type=_missing_current.kind
)


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
            403: RegistrationClosed().message,
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
        )
    )
    return _user_answer(user, status_code=201)


def _user_answer(user: User, status_code: int = 200) -> Response:
    return json_body(UserOut.of(user), status_code=status_code, headers={"ETag": etag_of(user)})


def _read_answer(user: User, request: Request) -> Response:
    if none_match_fails(none_match_condition(request), user):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag_of(user)})
    return _user_answer(user)


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
            403: PermissionDenied("Only an administrator may list users").message,
            422: FieldError(field="role", message="Input should be 'user' or 'admin'", type="enum"),
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
        ListUsersCommand(actor=user, page=page, email=email, is_active=is_active, role=role)
    )
    return json_body(UserPage.of(found, [UserOut.of(u) for u in found.items]))


@router.get(
    "/me",
    response_model=UserOut,
    summary="Read your own account",
    operation_id="getCurrentUser",
    responses=documented(
        200, "Your account", errors=(401, 503), headers=ETAG_HEADER, not_modified=True
    ),
    openapi_extra={"parameters": [IF_NONE_MATCH_PARAMETER]},
)
async def read_me(request: Request, user: CurrentUser) -> Response:
    """The account the bearer token belongs to. Its `ETag` is the one to send in `If-Match`
    when changing it; with `If-None-Match` naming it (or `*`), a 304 with no body."""
    return _read_answer(user, request)


@router.patch(
    "/me",
    response_model=UserOut,
    summary="Change your own account",
    operation_id="updateCurrentUser",
    responses=documented(
        200,
        "Your account as changed",
        errors=(400, 401, 403, 409, 412, 413, 422, 429, 503),
        examples={
            403: ADMIN_FIELDS_ONLY,
            409: [EMAIL_TAKEN, LAST_ADMIN, USER_BUSY],
            422: [NO_CURRENT_PASSWORD, BAD_EMAIL],
        },
        headers=ETAG_HEADER,
    ),
)
async def update_me(
    request: Request,
    body: UserUpdate,
    user: CurrentUser,
    use_case: UpdateUserCase,
    if_match: IfMatch,
) -> Response:
    """Change the fields sent; the others stay as stored, whatever else changes them
    meanwhile. A new password needs `current_password` and ends every session; a wrong
    `current_password` counts as a failed login of the account (429 with `Retry-After` at
    `LOGIN_RATE_LIMIT`); a taken email is a 409; `roles` and `is_active` are for
    administrators (403). A new email is unverified, and a link to verify it is mailed to
    it. With `If-Match`, only while the account's `ETag` is one it names (or `*`):
    otherwise a 412 and nothing changes."""
    updated = await use_case.execute(
        UpdateUserCommand(
            actor=user,
            user_id=user.id,
            changes=body.changes(),
            expected_versions=if_match,
            client_address=client_address(request),
        )
    )
    return _user_answer(updated)


@router.delete(
    "/me",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete your own account",
    operation_id="deleteCurrentUser",
    responses=documented(
        204,
        "Deleted, with your items",
        errors=(401, 409, 412, 422, 503),
        examples={409: [LAST_ADMIN, USER_BUSY]},
    ),
)
async def delete_me(user: CurrentUser, use_case: DeleteUserCase, if_match: IfMatch) -> None:
    """Delete your account and all your items. The last active administrator cannot (409).
    With `If-Match`, only while the account's `ETag` is one it names (or `*`): otherwise a
    412 and nothing is deleted."""
    await use_case.execute(
        DeleteUserCommand(actor=user, user_id=user.id, expected_versions=if_match)
    )


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
    return _read_answer(
        await use_case.execute(GetUserCommand(actor=user, user_id=user_id)), request
    )


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
        )
    )
    return _user_answer(updated)


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
    user_id: uuid.UUID, user: CurrentUser, use_case: DeleteUserCase, if_match: IfMatch
) -> None:
    """Delete an account and its items: yourself, or anyone as an administrator (404
    otherwise). The last active administrator cannot be deleted (409). With `If-Match`,
    only while the account's `ETag` is one it names (or `*`): otherwise a 412."""
    await use_case.execute(
        DeleteUserCommand(actor=user, user_id=user_id, expected_versions=if_match)
    )
