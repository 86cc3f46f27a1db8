"""The error envelope every non-2xx answer uses, and the models that document it."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

EXAMPLE_REQUEST_ID = "4f2c0d4e8b1a4c4e9f0e6b7a1d2c3b4a"


class ErrorCode(StrEnum):
    """What went wrong, for programs: the status says how bad, the code says what."""

    VALIDATION_ERROR = "VALIDATION_ERROR"
    UNAUTHORIZED = "UNAUTHORIZED"
    FORBIDDEN = "FORBIDDEN"
    INVALID_TOKEN = "INVALID_TOKEN"  # noqa: S105 (an error code, not a secret)
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    PRECONDITION_FAILED = "PRECONDITION_FAILED"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    RATE_LIMITED = "RATE_LIMITED"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    HTTP_ERROR = "HTTP_ERROR"


_NOT_FOUND_BODY: dict[str, Any] = {
    "code": "NOT_FOUND",
    "message": "Item not found",
    "details": {},
    "request_id": EXAMPLE_REQUEST_ID,
}
_FIELD_ERROR: dict[str, Any] = {
    "field": "title",
    "message": "String should have at least 1 character",
    "type": "string_too_short",
}
_VALIDATION_BODY: dict[str, Any] = {
    "code": "VALIDATION_ERROR",
    "message": "Invalid input",
    "details": {"errors": [_FIELD_ERROR]},
    "request_id": EXAMPLE_REQUEST_ID,
}


class ErrorBody(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_NOT_FOUND_BODY]})

    code: ErrorCode
    message: str = Field(
        description="For people: safe to show, never a trace or SQL", examples=["Item not found"]
    )
    details: dict[str, Any] = Field(
        description="More about the error, by code: `errors` (422), `retry_after` (429), "
        "`checks` (503 from the readiness probe), `max_bytes` (413); empty otherwise"
    )
    request_id: str | None = Field(
        description="The `X-Request-ID` of the answer: quote it when reporting a problem",
        examples=[EXAMPLE_REQUEST_ID],
    )


class ErrorEnvelope(BaseModel):
    """The body of every error answer."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"error": _NOT_FOUND_BODY}]})

    error: ErrorBody


class FieldError(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_FIELD_ERROR]})

    field: str = Field(
        description="The input at fault: a body field, a query or path parameter, or a form "
        "field; nested places are joined with dots (`roles.0`)",
        examples=["title"],
    )
    message: str = Field(examples=["String should have at least 1 character"])
    type: str = Field(
        description="The kind of fault, for programs (`missing`, `string_too_short`, "
        "`uuid_parsing`, `value_error`, ...)",
        examples=["string_too_short"],
    )


class ValidationErrorDetails(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"errors": [_FIELD_ERROR]}]})

    errors: list[FieldError] = Field(min_length=1)


class ValidationErrorBody(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_VALIDATION_BODY]})

    code: Literal["VALIDATION_ERROR"]
    message: str = Field(examples=["Invalid input"])
    details: ValidationErrorDetails
    request_id: str | None = Field(examples=[EXAMPLE_REQUEST_ID])


class ValidationErrorEnvelope(BaseModel):
    """The error envelope of a 422: every fault in the input, one entry each."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"error": _VALIDATION_BODY}]})

    error: ValidationErrorBody


def envelope_bytes(
    code: str, message: str, request_id: str | None, details: dict[str, Any] | None = None
) -> bytes:
    body = {
        "error": {
            "code": code,
            "message": message,
            "details": details or {},
            "request_id": request_id,
        }
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
