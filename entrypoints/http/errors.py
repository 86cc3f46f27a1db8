"""The exception handlers: each error answered as the error table says."""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from application.errors import StorageUnavailable
from entrypoints.http.envelope import envelope_bytes
from entrypoints.http.error_table import (
    ERRORS,
    HTTP_ERROR,
    INVALID_INPUT,
    UNAUTHORIZED,
    Answer,
    ErrorKind,
    answer_to,
)
from entrypoints.http.middleware.methods import allowed_methods

logger = logging.getLogger("keel.http")

Handler = Callable[[Request, Exception], Awaitable[Response]]


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


def answer_response(request: Request, answer: Answer) -> Response:
    return error_response(
        request, answer.status, answer.code, answer.message, answer.details, answer.headers
    )


def kind_response(
    request: Request, kind: ErrorKind, details: dict[str, Any] | None = None
) -> Response:
    """The answer of a ``kind`` that always says the same (its message and headers)."""
    assert kind.message is not None
    headers = dict(kind.headers) or None
    return error_response(request, kind.status, kind.code, kind.message, details, headers)


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
    return kind_response(request, INVALID_INPUT, {"errors": errors})


def _message(err: Any) -> str:
    message = str(err.get("msg", "Invalid value"))
    return message.removeprefix("Value error, ")


def _answering(kind: ErrorKind) -> Handler:
    async def handler(request: Request, exc: Exception) -> Response:
        return answer_response(request, answer_to(exc, kind))

    return handler


async def _unavailable(request: Request, exc: Exception) -> Response:
    # The cause is logged once per change by the readiness watcher, not once per request.
    logger.debug("storage unavailable: %s", exc)
    readiness = getattr(request.app.state, "readiness", None)
    if readiness is not None:
        readiness.notice_failure()
    return answer_response(request, answer_to(exc, ERRORS[StorageUnavailable]))


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
    if exc.status_code == UNAUTHORIZED.status:
        return kind_response(request, UNAUTHORIZED)
    unreadable = _unreadable_json(exc)
    if unreadable is not None:
        errors = [{"field": "body", "message": unreadable, "type": "json_invalid"}]
        return kind_response(request, INVALID_INPUT, {"errors": errors})
    if exc.status_code == 405:
        # Across all the routes of the path: the router names only the first that matched.
        allowed = allowed_methods(request.scope)
        if allowed is not None:
            headers = {**(headers or {}), "Allow": allowed}
    return error_response(request, exc.status_code, HTTP_ERROR, message, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    handlers: dict[type[Exception], Handler] = {
        RequestValidationError: _validation,
        StorageUnavailable: _unavailable,
    }
    for error, kind in ERRORS.items():
        app.add_exception_handler(error, handlers.get(error) or _answering(kind))
    app.add_exception_handler(StarletteHTTPException, _http_error)
