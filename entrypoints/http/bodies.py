"""Answers whose body is a response model, serialised once."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel
from starlette.responses import Response


def json_body(
    model: BaseModel, *, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """``model`` as JSON, by pydantic's serialiser, in one pass.

    A route that returns its model lets FastAPI validate it again against the route's
    ``response_model`` and then serialise it: for a page of twenty items, forty model
    validations per request. Models built from domain entities are right by construction
    (``model_construct``); the route keeps ``response_model`` for the OpenAPI document, and
    the contract tests check every answer against it."""
    return Response(
        model.__pydantic_serializer__.to_json(model),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )
