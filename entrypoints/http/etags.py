"""Entity tags of items and accounts and the conditions clients put on them (RFC 9110,
section 13).

An item's or an account's ``ETag`` is a strong validator made from its version: ``"v3"``.
``If-Match`` (on PATCH and DELETE) compares strongly, so a weak tag never matches;
``If-None-Match`` (on GET) compares weakly. A header that is not a valid list of entity
tags matches nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Final, Literal, Protocol

from fastapi import Depends, Header, Request

ANY: Final = "*"

# One list element: an optional entity tag, then a comma or the end. Empty elements are
# allowed (RFC 9110, section 5.6.1); the opaque tag may itself hold commas.
_ELEMENT = re.compile(r'[ \t]*(?:(W/)?("[\x21\x23-\x7e\x80-\xff]*"))?[ \t]*(,|\Z)')
# Versions are compared in Python only; the bound keeps int() far from its digit limit.
_VERSION = re.compile(r'"v(0|[1-9][0-9]{0,17})"')


@dataclass(frozen=True, slots=True)
class EntityTag:
    opaque: str  # with its double quotes
    weak: bool = False


Condition = Literal["*"] | tuple[EntityTag, ...]


class Versioned(Protocol):
    """An entity whose every change moves its version: an item or a user."""

    @property
    def version(self) -> int: ...


def etag_of(entity: Versioned) -> str:
    return f'"v{entity.version}"'


def parse_condition(value: str) -> Condition | None:
    """``*``, or the entity tags of a comma-separated list; None when ``value`` is not one."""
    if value.strip(" \t") == ANY:
        return ANY
    tags: list[EntityTag] = []
    position = 0
    while position < len(value):
        element = _ELEMENT.match(value, position)
        if element is None:
            return None
        weak, opaque, _ = element.groups()
        if opaque is not None:
            tags.append(EntityTag(opaque, weak=weak is not None))
        position = element.end()
    return tuple(tags)


def versions_matching(condition: Condition | None) -> frozenset[int] | None:
    """The versions an ``If-Match`` condition accepts: None for any version (``*``),
    none at all when the header is malformed. Strong comparison: weak tags match nothing."""
    if condition == ANY:
        return None
    if condition is None:
        return frozenset()
    found = (_VERSION.fullmatch(tag.opaque) for tag in condition if not tag.weak)
    return frozenset(int(match.group(1)) for match in found if match is not None)


def none_match_fails(condition: Condition | None, entity: Versioned) -> bool:
    """True when ``If-None-Match`` names the entity's current tag (weak comparison) or is
    ``*``: the client's copy is current. A malformed header is ignored."""
    if condition is None:
        return False
    if condition == ANY:
        return True
    current = etag_of(entity)
    return any(tag.opaque == current for tag in condition)


def _joined(request: Request, name: str) -> str:
    # A header sent on several lines is one comma-separated list.
    return ", ".join(request.headers.getlist(name))


async def _if_match(
    request: Request,
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description='Change only while the `ETag` is one of these (`"v3"`), '
            "or `*`; otherwise a 412 and nothing changes. Weak tags never match.",
            examples=['"v1"'],
        ),
    ] = None,
) -> frozenset[int] | None:
    if if_match is None:
        return None
    return versions_matching(parse_condition(_joined(request, "if-match")))


_NONE_MATCH_TEXT = "A 304 with no body when the `ETag` is one of these (weak comparison) or `*`"
# GETs read ``If-None-Match`` themselves (``none_match_condition``) and document it with this:
# as a FastAPI dependency with a header parameter it cost some 35 µs a request, a sixteenth
# of what users/me costs in all.
IF_NONE_MATCH_PARAMETER: Final = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "schema": {
        "anyOf": [{"type": "string"}, {"type": "null"}],
        "description": _NONE_MATCH_TEXT,
        "examples": ['"v1"'],
        "title": "If-None-Match",
    },
    "description": _NONE_MATCH_TEXT,
}


def none_match_condition(request: Request) -> Condition | None:
    """The request's ``If-None-Match``, None when it has none."""
    values = request.headers.getlist("if-none-match")
    return parse_condition(", ".join(values)) if values else None


IfMatch = Annotated[frozenset[int] | None, Depends(_if_match)]
