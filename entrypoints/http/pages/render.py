"""Rendering the account pages: jinja2 with autoescape on every template, so a value from
the request (the token of a link above all) is always escaped."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

from jinja2 import Environment, FunctionLoader, StrictUndefined
from starlette.responses import Response

HTML = "text/html; charset=utf-8"
# A page that carries a token is never kept by a browser or a shared cache.
NO_STORE = {"Cache-Control": "no-store"}


def _source(name: str) -> str:
    return (resources.files(__package__) / "templates" / name).read_text(encoding="utf-8")


@functools.cache
def _environment() -> Environment:
    return Environment(
        loader=FunctionLoader(_source),
        autoescape=True,  # every template, whatever its name
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def page(
    name: str,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **values: Any,
) -> Response:
    body = _environment().get_template(name).render(**values)
    return Response(body, status_code=status, media_type=HTML, headers=headers)


def stylesheet() -> bytes:
    return (resources.files(__package__) / "assets" / "keel.css").read_bytes()
