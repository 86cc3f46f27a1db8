"""The error envelope every non-2xx answer uses."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field

CODES_BY_STATUS = {
    400: "INVALID_TOKEN",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    412: "PRECONDITION_FAILED",
    413: "PAYLOAD_TOO_LARGE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


class FieldError(BaseModel):
    field: str
    message: str
    type: str


class ErrorBody(BaseModel):
    code: str = Field(examples=["NOT_FOUND"])
    message: str = Field(examples=["Item not found"])
    details: dict[str, Any] = Field(default_factory=dict)
    request_id: str | None = Field(None, examples=["4f2c0d4e8b1a4c4e9f0e6b7a1d2c3b4a"])


class ErrorEnvelope(BaseModel):
    """The body of every error answer."""

    error: ErrorBody


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


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the given error statuses, all in the envelope."""
    descriptions = {
        400: "Spent, expired or unknown token",
        401: "Missing or invalid credentials",
        403: "Not allowed",
        404: "Not found",
        409: "Conflict with stored data",
        412: "Stale If-Match",
        413: "Request body too large",
        422: "Invalid input",
        429: "Too many attempts",
        503: "Database unavailable",
    }
    return {
        status: {"model": ErrorEnvelope, "description": descriptions.get(status, "Error")}
        for status in statuses
    }
