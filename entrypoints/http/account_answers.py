"""What the account routes answer: an account with its `ETag`, a 304 for a read the client
already holds, and the errors their documentation shows as examples."""

from __future__ import annotations

from fastapi import Request, Response, status

from domain.errors import (
    EmailAlreadyRegistered,
    InvalidEmail,
    LastAdministrator,
    PermissionDenied,
    WrongCurrentPassword,
)
from domain.user import User, UserBusy
from entrypoints.http.bodies import json_body
from entrypoints.http.envelope import FieldError
from entrypoints.http.etags import etag_of, none_match_condition, none_match_fails
from entrypoints.http.schemas.users import UserOut

EMAIL_TAKEN = EmailAlreadyRegistered()
LAST_ADMIN = LastAdministrator()
USER_BUSY = UserBusy()
ADMIN_FIELDS_ONLY = PermissionDenied("Only an administrator may change roles")
BAD_EMAIL = FieldError(field="email", message=InvalidEmail().message, type="value_error")
_missing_current = WrongCurrentPassword("Current password is required to set a new one")
NO_CURRENT_PASSWORD = FieldError(
    field=_missing_current.field, message=_missing_current.message, type=_missing_current.kind
)


def user_answer(user: User, status_code: int = 200) -> Response:
    return json_body(UserOut.of(user), status_code=status_code, headers={"ETag": etag_of(user)})


def read_answer(user: User, request: Request) -> Response:
    if none_match_fails(none_match_condition(request), user):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag_of(user)})
    return user_answer(user)
