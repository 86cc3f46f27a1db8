"""Routes that read form fields say so when a client sends them something else.

FastAPI reads form fields out of a JSON body as missing, so a client that posts JSON to such
a route (the login, as OAuth2's password flow has it) would be told only that ``username``
and ``password`` are required, which they believe they sent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request

from domain.errors import ValidationFailed

FORM_MEDIA_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class FormExpected(ValidationFailed):
    """A body of another media type sent to a route that takes form fields."""

    def __init__(self, fields: tuple[str, ...]) -> None:
        super().__init__(
            "body",
            "This route takes form fields (application/x-www-form-urlencoded): "
            + ", ".join(fields),
            "form_expected",
        )


def form_fields(*fields: str) -> Callable[[Request], Awaitable[None]]:
    """A dependency refusing a body that is not a form; a request with no content type is
    left to the form's own validation (each missing field named)."""

    async def require_form(request: Request) -> None:
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type and media_type not in FORM_MEDIA_TYPES:
            raise FormExpected(fields)  # a new one each time: a raised error keeps its trace

    return require_form
