"""How each operation documents its answers: the success, every error it can really give
(in the envelope, with an example), the headers that come with them, and links."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from domain.errors import AuthenticationFailed, TooManyAttempts
from domain.item import ItemChanged
from entrypoints.http.envelope import (
    EXAMPLE_REQUEST_ID,
    ErrorCode,
    ErrorEnvelope,
    FieldError,
    ValidationErrorEnvelope,
)

Responses = dict[int | str, dict[str, Any]]

RETRY_AFTER_SECONDS = 60
UNAVAILABLE_RETRY_AFTER_SECONDS = 5
EXAMPLE_MAX_BYTES = 1_048_576

_REQUEST_ID_HEADER = {
    "X-Request-ID": {
        "description": "The request's id (the client's own when it sent a sane one)",
        "required": True,
        "schema": {"type": "string"},
    }
}
_BEARER_CHALLENGE_HEADER = {
    "WWW-Authenticate": {
        "description": "The scheme to authenticate with: `Bearer`",
        "required": True,
        "schema": {"type": "string", "pattern": "^Bearer"},
        "example": "Bearer",
    }
}


ETAG_HEADER = {
    "ETag": {
        "description": "The item's entity tag, a strong validator that changes with every "
        'change of the item: send it back in `If-Match` (or `If-None-Match`). `"v3"`',
        "required": True,
        "schema": {"type": "string"},
        "example": '"v3"',
    }
}


def _retry_after(example: int) -> dict[str, Any]:
    return {
        "Retry-After": {
            "description": "Seconds to wait before trying again",
            "required": True,
            "schema": {"type": "integer"},
            "example": example,
        }
    }


@dataclass(frozen=True)
class ErrorExample:
    """One error answer as the client sees it: ``message`` and ``details`` of the envelope."""

    message: str
    details: dict[str, Any] = field(default_factory=dict)
    summary: str | None = None


@dataclass(frozen=True)
class _Status:
    description: str
    code: ErrorCode
    example: ErrorExample
    model: type[BaseModel] = ErrorEnvelope
    headers: Mapping[str, Any] = field(default_factory=dict)


_STATUSES: dict[int, _Status] = {
    400: _Status(
        "The body could not be read at all (a multipart form without its boundary, for example)",
        ErrorCode.HTTP_ERROR,
        ErrorExample("There was an error parsing the body"),
    ),
    401: _Status(
        "Missing, invalid, expired or revoked credentials; one answer for every reason",
        ErrorCode.UNAUTHORIZED,
        ErrorExample(AuthenticationFailed().message),
        headers=_BEARER_CHALLENGE_HEADER,
    ),
    403: _Status("Not allowed", ErrorCode.FORBIDDEN, ErrorExample("Not allowed")),
    404: _Status(
        "Not found, or not yours: the two are not told apart",
        ErrorCode.NOT_FOUND,
        ErrorExample("Not found"),
    ),
    409: _Status(
        "The change contradicts stored data", ErrorCode.CONFLICT, ErrorExample("Conflict")
    ),
    412: _Status(
        "`If-Match` names none of the current entity tags: the item or account changed "
        "since it was read (or the header is not a list of strong tags). Nothing was changed",
        ErrorCode.PRECONDITION_FAILED,
        ErrorExample(ItemChanged().message),
    ),
    413: _Status(
        "The request body is larger than `MAX_REQUEST_BODY_BYTES` (`details.max_bytes`)",
        ErrorCode.PAYLOAD_TOO_LARGE,
        ErrorExample(
            f"The request body is larger than {EXAMPLE_MAX_BYTES} bytes",
            {"max_bytes": EXAMPLE_MAX_BYTES},
        ),
    ),
    422: _Status(
        "Invalid input: `details.errors` names each fault as `{field, message, type}`",
        ErrorCode.VALIDATION_ERROR,
        ErrorExample(
            "Invalid input",
            {"errors": [{"field": "body", "message": "Field required", "type": "missing"}]},
        ),
        model=ValidationErrorEnvelope,
    ),
    429: _Status(
        "Too many failed attempts: wait `Retry-After` seconds (also `details.retry_after`)",
        ErrorCode.RATE_LIMITED,
        ErrorExample(
            TooManyAttempts(RETRY_AFTER_SECONDS).message, {"retry_after": RETRY_AFTER_SECONDS}
        ),
        headers=_retry_after(RETRY_AFTER_SECONDS),
    ),
    500: _Status(
        "Unexpected error; the body says nothing about its cause",
        ErrorCode.INTERNAL_ERROR,
        ErrorExample("Internal server error"),
    ),
    503: _Status(
        "A store the service needs (the database; for throttled actions also the shared "
        "rate-limit store) cannot be reached, or, where a password is hashed, every hashing "
        "thread is busy and its queue full: try again after `Retry-After` seconds",
        ErrorCode.SERVICE_UNAVAILABLE,
        ErrorExample("The service is temporarily unavailable"),
        headers=_retry_after(UNAVAILABLE_RETRY_AFTER_SECONDS),
    ),
}

# Any request can meet a bug.
_ALWAYS = (500,)

Example = str | FieldError | ErrorExample


def documented(
    status: int,
    description: str,
    *,
    errors: Sequence[int],
    examples: Mapping[int, Example | Sequence[Example]] | None = None,
    links: Mapping[str, Any] | None = None,
    headers: Mapping[str, Any] | None = None,
    not_modified: bool = False,
) -> Responses:
    """The ``responses`` of one operation: the success ``status`` (its body comes from the
    route's ``response_model``) and each error in ``errors`` plus a 500, in the envelope.
    ``examples`` gives the error answers this operation really sends, by status: a message,
    a field error (422) or a whole ``ErrorExample``; otherwise a generic one is shown.
    ``headers`` come with the success; ``not_modified`` adds a 304 carrying them too."""
    success_headers = {**_REQUEST_ID_HEADER, **(headers or {})}
    success: dict[str, Any] = {"description": description, "headers": success_headers}
    if links:
        success["links"] = dict(links)
    answers: Responses = {status: success}
    if not_modified:
        answers[304] = {
            "description": "Not modified: `If-None-Match` names the current `ETag`; no body",
            "headers": dict(success_headers),
        }
    given = examples or {}
    for code in sorted({*errors, *_ALWAYS}):
        answers[code] = _error(code, _as_list(given.get(code)))
    return answers


def _as_list(value: Example | Sequence[Example] | None) -> list[Example]:
    if value is None:
        return []
    if isinstance(value, str | FieldError | ErrorExample):
        return [value]
    return list(value)


def _error(status: int, examples: list[Example]) -> dict[str, Any]:
    known = _STATUSES[status]
    cases = [_example(known, example) for example in examples] or [known.example]
    return {
        "model": known.model,
        "description": known.description,
        "headers": {**_REQUEST_ID_HEADER, **known.headers},
        "content": {
            "application/json": {
                "examples": {
                    _slug(case.summary or case.message): {
                        "summary": case.summary or case.message,
                        "value": _envelope(known.code, case),
                    }
                    for case in cases
                }
            }
        },
    }


def _example(known: _Status, example: Example) -> ErrorExample:
    if isinstance(example, ErrorExample):
        return example
    if isinstance(example, FieldError):
        return ErrorExample(
            known.example.message,
            {"errors": [example.model_dump()]},
            summary=f"{example.field}: {example.message}",
        )
    return ErrorExample(example, known.example.details)


def _envelope(code: ErrorCode, example: ErrorExample) -> dict[str, Any]:
    return {
        "error": {
            "code": code.value,
            "message": example.message,
            "details": example.details,
            "request_id": EXAMPLE_REQUEST_ID,
        }
    }


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "example"


LOGIN_WITH_NEW_ACCOUNT = {
    "login": {
        "operationId": "login",
        "requestBody": {"username": "$request.body#/email", "password": "$request.body#/password"},
        "description": "Log in with the email and password just registered",
    }
}


def links_from_token_pair() -> dict[str, Any]:
    """Links from an answer carrying a token pair to what its refresh token is for: a new
    pair (``refreshTokens``) and ending the session (``logout``)."""
    return {
        operation: {
            "operationId": operation,
            "requestBody": {"refresh_token": "$response.body#/refresh_token"},
            "description": f"{action} with the `refresh_token` of this pair",
        }
        for operation, action in (("refreshTokens", "A new pair"), ("logout", "End the session"))
    }


def links_from_created(resource: str, parameter: str, *, etag: bool = False) -> dict[str, Any]:
    """Links from the answer that created ``resource`` to reading, changing and deleting
    it: the operations ``get{resource}``, ``update{resource}``, ``delete{resource}``, whose
    path parameter ``parameter`` takes the new ``id``. With ``etag``, the change and the
    deletion also send the answer's ``ETag`` as ``If-Match``."""
    links: dict[str, Any] = {}
    for verb, action in (("get", "Read"), ("update", "Change"), ("delete", "Delete")):
        parameters = {parameter: "$response.body#/id"}
        description = f"{action} the new {resource.lower()}: its `id` is the `{parameter}`"
        if etag and verb != "get":
            parameters["header.If-Match"] = "$response.header.ETag"
            description += ", its `ETag` the `If-Match`"
        links[f"{verb}{resource}"] = {
            "operationId": f"{verb}{resource}",
            "parameters": parameters,
            "description": description,
        }
    return links
