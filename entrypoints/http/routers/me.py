"""Your own account: read, change and delete it (`/users/me`). Included before the
accounts router, whose `/users/{user_id}` would otherwise take "me" for an id."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from application.use_cases.accounts.delete_user import DeleteUserCommand
from application.use_cases.accounts.update_user import UpdateUserCommand
from entrypoints.http.account_answers import (
    ADMIN_FIELDS_ONLY,
    BAD_EMAIL,
    EMAIL_TAKEN,
    LAST_ADMIN,
    NO_CURRENT_PASSWORD,
    USER_BUSY,
    read_answer,
    user_answer,
)
from entrypoints.http.dependencies import (
    AccountReader,
    CurrentUser,
    DeleteUserCase,
    UpdateUserCase,
    client_address,
    origin_of,
)
from entrypoints.http.etags import IF_NONE_MATCH_PARAMETER, IfMatch
from entrypoints.http.openapi import ETAG_HEADER, documented
from entrypoints.http.paths import API_PREFIX
from entrypoints.http.schemas.users import UserOut, UserUpdate

router = APIRouter(prefix=f"{API_PREFIX}/users", tags=["users"])


@router.get(
    "/me",
    response_model=UserOut,
    summary="Read your own account",
    operation_id="getCurrentUser",
    responses=documented(
        200, "Your account", errors=(401, 403, 503), headers=ETAG_HEADER, not_modified=True
    ),
    openapi_extra={"parameters": [IF_NONE_MATCH_PARAMETER]},
)
async def read_me(request: Request, user: AccountReader) -> Response:
    """The account the bearer token belongs to. Its `ETag` is the one to send in `If-Match`
    when changing it; with `If-None-Match` naming it (or `*`), a 304 with no body."""
    return read_answer(user, request)


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
            origin=origin_of(request),
        )
    )
    return user_answer(updated)


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
async def delete_me(
    request: Request, user: CurrentUser, use_case: DeleteUserCase, if_match: IfMatch
) -> None:
    """Delete your account and all your items. The last active administrator cannot (409).
    With `If-Match`, only while the account's `ETag` is one it names (or `*`): otherwise a
    412 and nothing is deleted."""
    await use_case.execute(
        DeleteUserCommand(
            actor=user, user_id=user.id, expected_versions=if_match, origin=origin_of(request)
        )
    )
