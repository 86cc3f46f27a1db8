"""How each operation documents its answers: the success, every error it can really give
(in the envelope, with an example), the headers that come with them, and links."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from domain.errors import DomainError
from entrypoints.http.envelope import EXAMPLE_REQUEST_ID, FieldError
from entrypoints.http.error_table import STATUSES, Answer, DocumentedStatus, answer_to

Responses = dict[int | str, dict[str, Any]]

_REQUEST_ID_HEADER = {
    "X-Request-ID": {
        "description": "The request's id (the client's own when it sent a sane one)",
        "required": True,
        "schema": {"type": "string"},
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


def _documented_header(name: str, value: str) -> dict[str, Any]:
    """A header of an error answer, documented with the value of the status's example."""
    if name == "Retry-After":
        return {
            "description": "Seconds to wait before trying again",
            "required": True,
            "schema": {"type": "integer"},
            "example": int(value),
        }
    if name == "WWW-Authenticate":
        return {
            "description": f"The scheme to authenticate with: `{value}`",
            "required": True,
            "schema": {"type": "string", "pattern": f"^{value}"},
            "example": value,
        }
    if name == "Content-Range":
        return {
            "description": "The size of the content: `bytes */SIZE`",
            "required": True,
            "schema": {"type": "string"},
            "example": value,
        }
    raise LookupError(f"{name} has no documentation")


@dataclass(frozen=True)
class ErrorExample:
    """One error answer as the client sees it: ``message`` and ``details`` of the envelope."""

    message: str
    details: dict[str, Any] = field(default_factory=dict)
    summary: str | None = None


# Any request can meet a bug.
_ALWAYS = (500,)

Example = str | FieldError | ErrorExample | DomainError


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
    ``examples`` gives the error answers this operation really sends, by status: the error
    itself (answered as the error table says, which must be with that status), a message, a
    field error (422) or a whole ``ErrorExample``; otherwise a generic one is shown.
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
    if isinstance(value, str | FieldError | ErrorExample | DomainError):
        return [value]
    return list(value)


def _error(status: int, examples: list[Example]) -> dict[str, Any]:
    known = STATUSES[status]
    cases = [_example(status, known, example) for example in examples] or [(known.example, None)]
    headers = known.example.headers or {}
    return {
        "model": known.model,
        "description": known.description,
        "headers": {
            **_REQUEST_ID_HEADER,
            **{name: _documented_header(name, value) for name, value in headers.items()},
        },
        "content": {
            "application/json": {
                "examples": {
                    _slug(summary or answer.message): {
                        "summary": summary or answer.message,
                        "value": _envelope(answer),
                    }
                    for answer, summary in cases
                }
            }
        },
    }


def _example(status: int, known: DocumentedStatus, example: Example) -> tuple[Answer, str | None]:
    """The answer an example stands for, and its summary when not its message."""
    default = known.example
    if isinstance(example, DomainError):
        answer = answer_to(example)
        if answer.status != status:
            raise ValueError(f"{example!r} is answered with {answer.status}, not {status}")
        return answer, None
    if isinstance(example, ErrorExample):
        answer = replace(default, message=example.message, details=example.details)
        return answer, example.summary
    if isinstance(example, FieldError):
        details = {"errors": [example.model_dump()]}
        return replace(default, details=details), f"{example.field}: {example.message}"
    return replace(default, message=example), None


def _envelope(answer: Answer) -> dict[str, Any]:
    return {
        "error": {
            "code": answer.code.value,
            "message": answer.message,
            "details": answer.details,
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
