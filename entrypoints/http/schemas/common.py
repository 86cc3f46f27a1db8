"""What the bodies of several features share: the character rules as documented patterns,
storable text, email and password fields, the examples' common story, pages and the empty
PATCH field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from domain.email import Email
from domain.errors import ValidationFailed
from domain.pagination import COUNT_CAP, Page
from domain.password import MAX_LENGTH, MIN_LENGTH, check_password_policy
from domain.text import is_storable
from entrypoints.http.schemas.serialisers import Fields, serialised


def storable_text(value: str) -> str:
    if not is_storable(value):
        raise ValueError("Contains characters that are not allowed")
    return value


# The character rules, written as patterns for the OpenAPI document so that clients and
# generated tests know them; the checks themselves are the domain's (``domain.text``,
# ``domain.password``, ``domain.user``, ``domain.item``), and unit tests hold the two equal.
# Whitespace is what Python's ``str.strip()`` removes, spelled out: ``\s`` differs between
# regular expression dialects.
WHITESPACE = (
    r"\t\n\u000b\u000c\r\u001c-\u001f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
)
_CONTROL = r"\u0000-\u001f\u007f"
NO_NUL = r"^[^\u0000]*$"
NOT_BLANK_NO_NUL = rf"^[^\u0000]*[^{WHITESPACE}\u0000][^\u0000]*$"
ONE_LINE = rf"^[{WHITESPACE}]*[^{_CONTROL}]*[{WHITESPACE}]*$"
NOT_BLANK_ONE_LINE = (
    rf"^[{WHITESPACE}]*[^{_CONTROL}]*[^{WHITESPACE}{_CONTROL}][^{_CONTROL}]*[{WHITESPACE}]*$"
)
MULTI_LINE = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$"


def documented_pattern(pattern: str) -> Any:
    """Documents ``pattern``; the validation stays with the domain's rules and messages."""
    return Field(json_schema_extra={"pattern": pattern})


# Any string from a client that is not otherwise checked character by character: a NUL or a
# lone surrogate is refused here, a 422 naming the field, never handed to the database.
StorableText = Annotated[str, AfterValidator(storable_text), documented_pattern(NO_NUL)]
# The same for an email address, documented by its format (which has no NUL) instead.
StorableEmail = Annotated[
    str, AfterValidator(storable_text), Field(json_schema_extra={"format": "email"})
]


def _email(value: str) -> str:
    try:
        return Email(value).value
    except ValidationFailed as exc:
        raise ValueError(exc.message) from exc


def _password(value: str) -> str:
    try:
        check_password_policy(value)
    except ValidationFailed as exc:
        raise ValueError(exc.message) from exc
    return value


# Examples share ids and times so that they tell one story: Ada registers, then adds an item.
EXAMPLE_USER_ID = "3f6c2b9e-8d1a-4c57-9e0b-2a4d6f8c1e35"
EXAMPLE_ITEM_ID = "b7e4a1d2-5c3f-4e8a-9b6d-0f1e2c3a4b5d"
EXAMPLE_CREATED_AT = "2025-05-01T09:30:00Z"
EXAMPLE_UPDATED_AT = "2025-05-02T14:05:00Z"
EXAMPLE_CURSOR = (
    "MjAyNS0wNS0wMVQwOTozMDowMCswMDowMHxiN2U0YTFkMi01YzNmLTRlOGEtOWI2ZC0wZjFlMmMzYTRiNWR8Mg"
    ".1AgvN0NnwF4m6sV4z5Zx6A"
)


EXAMPLE_PASSWORD = "correct horse battery"  # noqa: S105 (the documented example)


def examples(*values: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(values)})


EmailField = Annotated[
    str,
    Field(
        max_length=320,
        description="An email address; stored trimmed, NFKC-normalised and lower-cased, "
        "its domain in ASCII (an internationalised one in punycode)",
        examples=["ada@example.com"],
        json_schema_extra={"format": "email"},
    ),
    AfterValidator(_email),
]
NewPassword = Annotated[
    str,
    Field(
        min_length=MIN_LENGTH,
        max_length=MAX_LENGTH,
        description=f"{MIN_LENGTH} to {MAX_LENGTH} characters, not only whitespace, without "
        "NUL or lone surrogates; a password from the list attackers try first is refused",
        examples=[EXAMPLE_PASSWORD],
    ),
    AfterValidator(_password),
    documented_pattern(NOT_BLANK_NO_NUL),
]
PasswordField = Annotated[StorableText, Field(min_length=1, max_length=1024)]
# The default of a field that may be left out of a PATCH but not sent as null: the field is
# not nullable in the schema, so an explicit null is a 422, and left out it is not "set".
OMITTED: Any = None


T = TypeVar("T")


@serialised(Page, arguments=("items",))
class PageOut(BaseModel, Generic[T]):
    items: list[T]
    total: int | None = Field(
        examples=[42],
        description=f"How many entries match: exact when `total_is_exact`, otherwise at "
        f"least this many (counting stops at {COUNT_CAP:,}); null when not counted (pages "
        "by cursor, unless `total=true`)",
    )
    total_is_exact: bool = Field(
        examples=[True], description="Whether `total` is the exact number of entries"
    )
    page: int = Field(examples=[1])
    page_size: int = Field(examples=[20])
    has_next: bool = Field(examples=[True])
    next_cursor: str | None = Field(
        examples=[None],
        description="Send as `cursor` (with the same filters) for the next page; null on the last",
    )

    of: ClassVar[Callable[[Page[Any], list[Fields]], Fields]]
