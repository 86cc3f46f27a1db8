"""One table from error to answer: the handlers, the middleware and the OpenAPI document all
read it, so what the document shows is what the wire carries."""

from __future__ import annotations

import pytest

from domain.errors import InvalidToken, TooManyAttempts, UserNotFound
from entrypoints.http import error_table
from entrypoints.http.error_table import ERRORS, STATUSES, answer_to
from entrypoints.http.openapi import documented


def test_every_status_an_error_is_answered_with_is_documented() -> None:
    kinds = [
        value for value in vars(error_table).values() if isinstance(value, error_table.ErrorKind)
    ]
    for kind in [*ERRORS.values(), *kinds]:
        assert kind.status in STATUSES, kind
        assert STATUSES[kind.status].example.status == kind.status


def test_an_example_error_is_shown_as_it_is_answered() -> None:
    responses = documented(204, "Done", errors=(400, 429), examples={400: InvalidToken()})
    [example] = responses[400]["content"]["application/json"]["examples"].values()
    assert example["value"]["error"]["code"] == "INVALID_TOKEN"
    assert example["value"]["error"]["message"] == InvalidToken().message
    throttled = TooManyAttempts(3600, "Too many registrations: try again later")
    answer = answer_to(throttled)
    assert (answer.status, answer.details, answer.headers) == (
        429,
        {"retry_after": 3600},
        {"Retry-After": "3600"},
    )


def test_an_example_under_another_status_is_refused() -> None:
    with pytest.raises(ValueError, match="404"):
        documented(200, "Read", errors=(400,), examples={400: UserNotFound()})
