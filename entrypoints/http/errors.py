"""The one table from error to HTTP answer."""

from __future__ import annotations

import logging
import sys
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from application.errors import HashingQueueFull, StorageUnavailable
from domain.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidToken,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    TooManyAttempts,
    ValidationFailed,
)
from entrypoints.http.envelope import envelope_bytes
from entrypoints.http.middleware.methods import allowed_methods

logger = logging.getLogger("keel.http")

BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}
# A full hashing queue drains in well under a second (a hash takes tens of milliseconds).
BUSY_RETRY_AFTER_SECONDS = 1


def request_id_of(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(
        envelope_bytes(code, message, request_id_of(request), details),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(part) for part in loc]
    if len(parts) > 1 and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "body"


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            # Malformed JSON: FastAPI puts the offset of the fault where the field goes.
            "field": "body" if err["type"] == "json_invalid" else _field_of(err.get("loc", ())),
            "message": _message(err),
            "type": err["type"],
        }
        for err in exc.errors()
    ]
    return error_response(request, 422, "VALIDATION_ERROR", "Invalid input", {"errors": errors})


def _message(err: Any) -> str:
    message = str(err.get("msg", "Invalid value"))
    return message.removeprefix("Value error, ")


async def _domain_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ValidationFailed)
    errors = [{"field": exc.field, "message": exc.message, "type": exc.kind}]
    return error_response(request, 422, "VALIDATION_ERROR", "Invalid input", {"errors": errors})


async def _not_found(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotFound)
    return error_response(request, 404, "NOT_FOUND", exc.message)


async def _conflict(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Conflict)
    return error_response(request, 409, "CONFLICT", exc.message)


async def _precondition_failed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PreconditionFailed)
    return error_response(request, 412, "PRECONDITION_FAILED", exc.message)


async def _unauthorized(request: Request, exc: Exception) -> Response:
    return error_response(
        request, 401, "UNAUTHORIZED", AuthenticationFailed().message, headers=BEARER_CHALLENGE
    )


async def _forbidden(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PermissionDenied)
    return error_response(request, 403, "FORBIDDEN", exc.message)


async def _invalid_token(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, InvalidToken)
    return error_response(request, 400, "INVALID_TOKEN", exc.message)


async def _too_many(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TooManyAttempts)
    return error_response(
        request,
        429,
        "RATE_LIMITED",
        exc.message,
        {"retry_after": exc.retry_after},
        headers={"Retry-After": str(exc.retry_after)},
    )


async def _unavailable(request: Request, exc: Exception) -> Response:
    logger.warning("storage unavailable: %s", exc)
    return error_response(
        request,
        503,
        "SERVICE_UNAVAILABLE",
        "The service is temporarily unavailable",
        headers={"Retry-After": "5"},
    )


async def _busy(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HashingQueueFull)
    return error_response(
        request,
        503,
        "SERVICE_UNAVAILABLE",
        exc.message,
        headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)},
    )


# FastAPI's answer when the JSON of a body cannot be read at all, whatever the reason.
_UNREADABLE_BODY = "There was an error parsing the body"
_UNREADABLE_JSON_CAUSES: dict[type[BaseException], str] = {
    UnicodeDecodeError: "JSON decode error: the body is not valid UTF-8",
    RecursionError: "JSON decode error: nested too deeply",
}
# Python reads no integer of more digits than sys.get_int_max_str_digits() (it would take
# quadratic time) and says so only in the message of a plain ValueError.
_TOO_MANY_DIGITS = "integer string conversion"


def _unreadable_json(exc: StarletteHTTPException) -> str | None:
    """The message for a JSON body that could not be decoded (not UTF-8, nested too deeply,
    an integer too long to read), so that it is answered like any other malformed JSON; None
    for anything else."""
    if exc.status_code != 400 or exc.detail != _UNREADABLE_BODY:
        return None
    cause = exc.__cause__
    for kind, message in _UNREADABLE_JSON_CAUSES.items():
        if isinstance(cause, kind):
            return message
    if type(cause) is ValueError and _TOO_MANY_DIGITS in str(cause):
        limit = sys.get_int_max_str_digits()
        return f"JSON decode error: an integer has more than {limit} digits"
    return None


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers) if exc.headers else None
    message = exc.detail if isinstance(exc.detail, str) else "HTTP error"
    if exc.status_code == 401:
        return await _unauthorized(request, exc)
    unreadable = _unreadable_json(exc)
    if unreadable is not None:
        errors = [{"field": "body", "message": unreadable, "type": "json_invalid"}]
        return error_response(request, 422, "VALIDATION_ERROR", "Invalid input", {"errors": errors})
    if exc.status_code == 405:
        # Across all the routes of the path: the router names only the first that matched.
        allowed = allowed_methods(request.scope)
        if allowed is not None:
            headers = {**(headers or {}), "Allow": allowed}
    return error_response(request, exc.status_code, "HTTP_ERROR", message, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(ValidationFailed, _domain_validation)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(Conflict, _conflict)
    app.add_exception_handler(PreconditionFailed, _precondition_failed)
    app.add_exception_handler(AuthenticationFailed, _unauthorized)
    app.add_exception_handler(PermissionDenied, _forbidden)
    app.add_exception_handler(TooManyAttempts, _too_many)
    app.add_exception_handler(InvalidToken, _invalid_token)
    app.add_exception_handler(StorageUnavailable, _unavailable)
    app.add_exception_handler(HashingQueueFull, _busy)
    app.add_exception_handler(StarletteHTTPException, _http_error)
