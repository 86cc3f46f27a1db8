"""The one table from error to HTTP answer.

``ERRORS`` gives, for each error the core raises and for FastAPI's validation error, the
status and code it is answered with; the answers no error class stands for (sent by the
middleware, or FastAPI's own) are the ``ErrorKind`` constants below it. The exception
handlers (``errors.py``), the middleware and the OpenAPI document (``openapi.py``, by
``STATUSES``) all read them, so a status or code is written here and nowhere else."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.requests import ClientDisconnect

from application.errors import HashingQueueFull, SecondFactorUnavailable, StorageUnavailable
from application.ports.blobs import BlobStoreUnavailable
from domain.attachment import (
    AttachmentTooLarge,
    QuotaExceeded,
    UnsupportedMediaType,
    UploadAbandoned,
)
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
from domain.item import ItemChanged
from entrypoints.http.envelope import ErrorCode, ErrorEnvelope, ValidationErrorEnvelope
from entrypoints.http.forms import FormExpected
from entrypoints.http.multipart import MultipartRefused
from entrypoints.http.ranges import RangeNotSatisfiable

Details = dict[str, Any]

# A full hashing queue drains in well under a second (a hash takes tens of milliseconds).
BUSY_RETRY_AFTER_SECONDS = 1
UNAVAILABLE_RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True, slots=True)
class ErrorKind:
    """How one kind of error is answered: ``message`` when it is always the same (else the
    error's own), fixed ``headers``, and what the error itself adds (``details_of``,
    ``headers_of``)."""

    status: int
    code: ErrorCode
    message: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    details_of: Callable[[Any], Details] | None = None
    headers_of: Callable[[Any], dict[str, str]] | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """One error answer, as the client sees it."""

    status: int
    code: ErrorCode
    message: str
    details: Details
    headers: dict[str, str] | None


def _field_errors(error: ValidationFailed) -> Details:
    return {"errors": [{"field": error.field, "message": error.message, "type": error.kind}]}


def _max_bytes(error: AttachmentTooLarge) -> Details:
    return {"max_bytes": error.max_bytes}


def _quota(error: QuotaExceeded) -> Details:
    return {"quota_bytes": error.quota_bytes}


def _allowed(error: UnsupportedMediaType) -> Details:
    return {"allowed": list(error.allowed)}


def _whole_size(error: RangeNotSatisfiable) -> dict[str, str]:
    return {"Content-Range": f"bytes */{error.size}"}


def _retry_after(error: TooManyAttempts) -> Details:
    return {"retry_after": error.retry_after}


def _retry_after_header(error: TooManyAttempts) -> dict[str, str]:
    return {"Retry-After": str(error.retry_after)}


INVALID_INPUT = ErrorKind(422, ErrorCode.VALIDATION_ERROR, "Invalid input")
UNAUTHORIZED = ErrorKind(
    401,
    ErrorCode.UNAUTHORIZED,
    AuthenticationFailed().message,  # one answer whatever the reason
    headers={"WWW-Authenticate": "Bearer"},
)
UNAVAILABLE = ErrorKind(
    503,
    ErrorCode.SERVICE_UNAVAILABLE,
    "The service is temporarily unavailable",  # never the driver's words
    headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER_SECONDS)},
)

ERRORS: dict[type[Exception], ErrorKind] = {
    RequestValidationError: INVALID_INPUT,
    ValidationFailed: ErrorKind(
        422, ErrorCode.VALIDATION_ERROR, INVALID_INPUT.message, details_of=_field_errors
    ),
    # Its own message: "Invalid input" would hide what the client has to change.
    FormExpected: ErrorKind(422, ErrorCode.VALIDATION_ERROR, details_of=_field_errors),
    MultipartRefused: ErrorKind(422, ErrorCode.VALIDATION_ERROR, details_of=_field_errors),
    NotFound: ErrorKind(404, ErrorCode.NOT_FOUND),
    Conflict: ErrorKind(409, ErrorCode.CONFLICT),
    PreconditionFailed: ErrorKind(412, ErrorCode.PRECONDITION_FAILED),
    AuthenticationFailed: UNAUTHORIZED,
    PermissionDenied: ErrorKind(403, ErrorCode.FORBIDDEN),
    InvalidToken: ErrorKind(400, ErrorCode.INVALID_TOKEN),
    TooManyAttempts: ErrorKind(
        429, ErrorCode.RATE_LIMITED, details_of=_retry_after, headers_of=_retry_after_header
    ),
    StorageUnavailable: UNAVAILABLE,
    # Its own message: the operator has to set ENCRYPTION_KEY, and nothing is secret in that.
    SecondFactorUnavailable: ErrorKind(503, ErrorCode.SERVICE_UNAVAILABLE),
    BlobStoreUnavailable: UNAVAILABLE,
    AttachmentTooLarge: ErrorKind(413, ErrorCode.PAYLOAD_TOO_LARGE, details_of=_max_bytes),
    QuotaExceeded: ErrorKind(413, ErrorCode.QUOTA_EXCEEDED, details_of=_quota),
    UnsupportedMediaType: ErrorKind(415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, details_of=_allowed),
    UploadAbandoned: ErrorKind(409, ErrorCode.CONFLICT),
    # Framework-level answers with the service's envelope.
    RangeNotSatisfiable: ErrorKind(416, ErrorCode.HTTP_ERROR, headers_of=_whole_size),
    ClientDisconnect: ErrorKind(400, ErrorCode.HTTP_ERROR, "The client closed the connection"),
    HashingQueueFull: ErrorKind(
        503,
        ErrorCode.SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)},
    ),
}

# Answers no error class of the core stands for.
HTTP_ERROR = ErrorCode.HTTP_ERROR  # FastAPI's and Starlette's own refusals, any status
UNREADABLE_BODY = ErrorKind(400, HTTP_ERROR, "There was an error parsing the body")
UNTRUSTED_HOST = ErrorKind(400, HTTP_ERROR, "Invalid host header")
CROSS_ORIGIN_REFUSED = ErrorKind(400, HTTP_ERROR, "Cross-origin request not allowed")
PAYLOAD_TOO_LARGE = ErrorKind(413, ErrorCode.PAYLOAD_TOO_LARGE)
INTERNAL_ERROR = ErrorKind(500, ErrorCode.INTERNAL_ERROR, "Internal server error")

# The codes the service itself gives each status (HTTP_ERROR aside, the framework's).
CODES_BY_STATUS: dict[int, frozenset[str]] = {}
for _kind in (*ERRORS.values(), PAYLOAD_TOO_LARGE, INTERNAL_ERROR):
    if _kind.code is not HTTP_ERROR:
        CODES_BY_STATUS[_kind.status] = CODES_BY_STATUS.get(_kind.status, frozenset()) | {
            _kind.code.value
        }


def kind_of(error: Exception) -> ErrorKind:
    """The entry of ``ERRORS`` for ``error``: its class's, or its nearest base class's."""
    for cls in type(error).__mro__:
        kind = ERRORS.get(cls)
        if kind is not None:
            return kind
    raise LookupError(f"{type(error).__name__} is not in the error table")


def answer_to(error: Exception, kind: ErrorKind | None = None) -> Answer:
    """The answer to ``error``, as the handlers send it and the OpenAPI examples show it."""
    kind = kind or kind_of(error)
    headers = dict(kind.headers)
    if kind.headers_of is not None:
        headers.update(kind.headers_of(error))
    return Answer(
        kind.status,
        kind.code,
        kind.message or str(getattr(error, "message", error)),
        kind.details_of(error) if kind.details_of is not None else {},
        headers or None,
    )


# -- what the OpenAPI document says of each status ------------------------------------

RETRY_AFTER_EXAMPLE_SECONDS = 60
EXAMPLE_MAX_BYTES = 1_048_576


def too_large_message(max_bytes: int) -> str:
    return f"The request body is larger than {max_bytes} bytes"


@dataclass(frozen=True)
class DocumentedStatus:
    """An error status as the document describes it, with the example shown when an
    operation gives none of its own; the headers of the example are documented with it."""

    description: str
    example: Answer
    model: type[BaseModel] = ErrorEnvelope


def _default(kind: ErrorKind, message: str, details: Details | None = None) -> Answer:
    headers = dict(kind.headers) or None
    return Answer(kind.status, kind.code, kind.message or message, details or {}, headers)


STATUSES: dict[int, DocumentedStatus] = {
    400: DocumentedStatus(
        "The body could not be read at all (a multipart form without its boundary, for example)",
        _default(UNREADABLE_BODY, ""),
    ),
    401: DocumentedStatus(
        "Missing, invalid, expired or revoked credentials; one answer for every reason",
        _default(UNAUTHORIZED, ""),
    ),
    403: DocumentedStatus("Not allowed", answer_to(PermissionDenied())),
    404: DocumentedStatus(
        "Not found, or not yours: the two are not told apart",
        _default(ERRORS[NotFound], "Not found"),
    ),
    409: DocumentedStatus(
        "The change contradicts stored data", _default(ERRORS[Conflict], "Conflict")
    ),
    412: DocumentedStatus(
        "`If-Match` names none of the current entity tags: the item or account changed "
        "since it was read (or the header is not a list of strong tags). Nothing was changed",
        answer_to(ItemChanged()),
    ),
    413: DocumentedStatus(
        "The request body is larger than `MAX_REQUEST_BODY_BYTES` (`details.max_bytes`)",
        _default(
            PAYLOAD_TOO_LARGE,
            too_large_message(EXAMPLE_MAX_BYTES),
            {"max_bytes": EXAMPLE_MAX_BYTES},
        ),
    ),
    415: DocumentedStatus(
        "The file's content, as sniffed from its first bytes (never the client's header), "
        "is not one of `ATTACHMENT_TYPES` (`details.allowed`). Nothing was stored",
        answer_to(UnsupportedMediaType(("image/png", "text/plain"))),
    ),
    416: DocumentedStatus(
        "`Range` is malformed, names several ranges, or starts past the end; "
        "`Content-Range: bytes */SIZE` gives the size",
        answer_to(RangeNotSatisfiable(1024)),
    ),
    422: DocumentedStatus(
        "Invalid input: `details.errors` names each fault as `{field, message, type}`",
        _default(
            INVALID_INPUT,
            "",
            {"errors": [{"field": "body", "message": "Field required", "type": "missing"}]},
        ),
        model=ValidationErrorEnvelope,
    ),
    429: DocumentedStatus(
        "Too many failed attempts: wait `Retry-After` seconds (also `details.retry_after`)",
        answer_to(TooManyAttempts(RETRY_AFTER_EXAMPLE_SECONDS)),
    ),
    500: DocumentedStatus(
        "Unexpected error; the body says nothing about its cause", _default(INTERNAL_ERROR, "")
    ),
    503: DocumentedStatus(
        "A store the service needs (the database; for throttled actions also the shared "
        "rate-limit store) cannot be reached, or, where a password is hashed, every hashing "
        "thread is busy and its queue full: try again after `Retry-After` seconds. The "
        "second factor's operations answer it, naming `ENCRYPTION_KEY`, where none is set",
        _default(UNAVAILABLE, ""),
    ),
}
