"""Request and response bodies. They parse and validate; the rules come from the domain."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from application.changes import ItemChanges, UserChanges
from domain.email import Email
from domain.errors import ValidationFailed
from domain.item import MAX_DESCRIPTION_LENGTH, MAX_TITLE_LENGTH, Item
from domain.pagination import Page
from domain.password import MAX_LENGTH, MIN_LENGTH, check_password_policy
from domain.role import Role
from domain.text import is_storable
from domain.user import MAX_FULL_NAME_LENGTH, User, normalise_full_name

# An answer's fields, taken from domain entities, as the response model documents them: they
# are serialised as they are (see ``bodies.json_body``), not built into the model first.
Fields = dict[str, Any]


def _id(value: uuid.UUID) -> uuid.UUID | str:
    """An id as its answer's field. PostgreSQL's driver gives ids of its own UUID subclass,
    which pydantic serialises by a slow general path (about 1.5 µs each, 60 µs for a page),
    and which turns itself to text quickly; plain UUIDs are serialised natively."""
    return value if type(value) is uuid.UUID else str(value)


def _storable(value: str) -> str:
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


def _pattern(pattern: str) -> Any:
    """Documents ``pattern``; the validation stays with the domain's rules and messages."""
    return Field(json_schema_extra={"pattern": pattern})


# Any string from a client that is not otherwise checked character by character: a NUL or a
# lone surrogate is refused here, a 422 naming the field, never handed to the database.
StorableText = Annotated[str, AfterValidator(_storable), _pattern(NO_NUL)]
# The same for an email address, documented by its format (which has no NUL) instead.
StorableEmail = Annotated[
    str, AfterValidator(_storable), Field(json_schema_extra={"format": "email"})
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


def _full_name(value: str | None) -> str | None:
    try:
        return normalise_full_name(value)
    except ValidationFailed as exc:
        raise ValueError(exc.message) from exc


# Examples share ids and times so that they tell one story: Ada registers, then adds an item.
EXAMPLE_USER_ID = "3f6c2b9e-8d1a-4c57-9e0b-2a4d6f8c1e35"
EXAMPLE_ITEM_ID = "b7e4a1d2-5c3f-4e8a-9b6d-0f1e2c3a4b5d"
EXAMPLE_CREATED_AT = "2025-05-01T09:30:00Z"
EXAMPLE_UPDATED_AT = "2025-05-02T14:05:00Z"


def _example_jwt(claims: str) -> str:
    """JWT-shaped, for the documentation only: a header, ``claims``, no real signature."""
    return f"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.{claims}.bm90LWEtcmVhbC1zaWduYXR1cmU"


EXAMPLE_ACCESS_TOKEN = _example_jwt("eyJ0eXBlIjoiYWNjZXNzIn0")  # {"type":"access"}
EXAMPLE_REFRESH_TOKEN = _example_jwt("eyJ0eXBlIjoicmVmcmVzaCJ9")  # {"type":"refresh"}
EXAMPLE_PASSWORD = "correct horse battery"  # noqa: S105 (the documented example)
EXAMPLE_USER: dict[str, Any] = {
    "id": EXAMPLE_USER_ID,
    "email": "ada@example.com",
    "full_name": "Ada Lovelace",
    "roles": ["user"],
    "is_active": True,
    "is_superuser": False,
    "is_verified": False,
    "created_at": EXAMPLE_CREATED_AT,
    "updated_at": EXAMPLE_UPDATED_AT,
}
EXAMPLE_ITEM: dict[str, Any] = {
    "id": EXAMPLE_ITEM_ID,
    "owner_id": EXAMPLE_USER_ID,
    "title": "Buy milk",
    "description": "Two litres, semi-skimmed",
    "created_at": EXAMPLE_CREATED_AT,
    "updated_at": EXAMPLE_UPDATED_AT,
}


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


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
    _pattern(NOT_BLANK_NO_NUL),
]
FullName = Annotated[
    str | None,
    Field(
        max_length=MAX_FULL_NAME_LENGTH,
        description="Trimmed, no control characters; empty means none",
        examples=["Ada Lovelace"],
    ),
    AfterValidator(_full_name),
    _pattern(ONE_LINE),
]


class UserCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "email": "ada@example.com",
                    "password": EXAMPLE_PASSWORD,
                    "full_name": "Ada Lovelace",
                },
                {"email": "grace@example.com", "password": "a long and quiet river"},
            ]
        },
    )

    email: EmailField
    password: NewPassword
    full_name: FullName = None


class UserOut(BaseModel):
    """An account as others may see it: never a password or its hash."""

    model_config = _examples(EXAMPLE_USER)

    id: uuid.UUID
    email: str = Field(description="Normalised: NFKC, lower-cased, the domain in ASCII (punycode)")
    full_name: str | None
    roles: list[Role] = Field(description="Everyone holds `user`; `admin` administers")
    is_active: bool
    is_superuser: bool
    is_verified: bool
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def of(user: User) -> Fields:
        return {
            "id": _id(user.id),
            "email": user.email.value,
            "full_name": user.full_name,
            "roles": sorted(role.value for role in user.roles),
            "is_active": user.is_active,
            "is_superuser": user.is_superuser,
            "is_verified": user.is_verified,
            "created_at": user.created_at,
            "updated_at": user.updated_at,
        }


class TokenPairOut(BaseModel):
    model_config = _examples(
        {
            "access_token": EXAMPLE_ACCESS_TOKEN,
            "refresh_token": EXAMPLE_REFRESH_TOKEN,
            "token_type": "bearer",
            "expires_in": 900,
        }
    )

    access_token: str = Field(description="Send it as `Authorization: Bearer <access_token>`")
    refresh_token: str = Field(
        description="Works once, at `/auth/refresh` or `/auth/logout`; keep it secret"
    )
    token_type: str = Field("bearer", examples=["bearer"])
    expires_in: int = Field(examples=[900], description="Seconds until the access token expires")


class HealthOut(BaseModel):
    model_config = _examples(
        {"status": "ok", "checks": {"database": "ok"}}, {"status": "ok", "checks": {}}
    )

    status: str = Field(examples=["ok"])
    checks: dict[str, str] = Field(
        default_factory=dict, description="Each dependency checked, by name"
    )


PasswordField = Annotated[StorableText, Field(min_length=1, max_length=1024)]
# The default of a field that may be left out of a PATCH but not sent as null: the field is
# not nullable in the schema, so an explicit null is a 422, and left out it is not "set".
OMITTED: Any = None


class UserUpdate(BaseModel):
    """Only the fields sent are changed. ``null`` is refused for every field but
    ``full_name``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"full_name": "Ada King"},
                {"password": "a new and longer passphrase", "current_password": EXAMPLE_PASSWORD},
                {"email": "ada.king@example.com"},
                {"roles": ["user", "admin"], "is_active": True},
            ]
        },
    )

    email: EmailField = OMITTED
    full_name: FullName = None
    password: NewPassword = OMITTED
    current_password: PasswordField = Field(
        default=OMITTED, description="Required when changing your own password"
    )
    roles: list[Role] = Field(default=OMITTED, min_length=1, max_length=len(Role))
    is_active: bool = OMITTED

    def changes(self) -> UserChanges:
        given = self.model_dump(include=self.model_fields_set)
        if "roles" in given:
            given["roles"] = frozenset(self.roles)
        return UserChanges(**given)


TitleField = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_TITLE_LENGTH,
        description=f"One line of 1 to {MAX_TITLE_LENGTH} characters once trimmed, "
        "no control characters",
        examples=["Buy milk"],
    ),
    _pattern(NOT_BLANK_ONE_LINE),
]
DescriptionField = Annotated[
    str | None,
    Field(
        max_length=MAX_DESCRIPTION_LENGTH,
        description="Line breaks and tabs allowed, other control characters not",
        examples=["Two litres, semi-skimmed"],
    ),
    _pattern(MULTI_LINE),
]


class ItemCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"title": "Buy milk", "description": "Two litres, semi-skimmed"},
                {"title": "Call the plumber"},
            ]
        },
    )

    title: TitleField
    description: DescriptionField = None


class ItemUpdate(BaseModel):
    """Only the fields sent are changed; ``title`` cannot be ``null``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"title": "Buy oat milk"}, {"description": None}]},
    )

    title: TitleField = OMITTED
    description: DescriptionField = None

    def changes(self) -> ItemChanges:
        return ItemChanges(**self.model_dump(include=self.model_fields_set))


class ItemOut(BaseModel):
    model_config = _examples(EXAMPLE_ITEM)

    id: uuid.UUID
    owner_id: uuid.UUID
    title: str
    description: str | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def of(item: Item) -> Fields:
        return {
            "id": _id(item.id),
            "owner_id": _id(item.owner_id),
            "title": item.title,
            "description": item.description,
            "created_at": item.created_at,
            "updated_at": item.updated_at,
        }


T = TypeVar("T")


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(examples=[42])
    page: int = Field(examples=[1])
    page_size: int = Field(examples=[20])
    has_next: bool = Field(examples=[True])

    @staticmethod
    def of(page: Page[Any], items: list[Fields]) -> Fields:
        return {
            "items": items,
            "total": page.total,
            "page": page.page,
            "page_size": page.page_size,
            "has_next": page.has_next,
        }


class ItemPage(PageOut[ItemOut]):
    """A page of items, newest first."""

    model_config = _examples(
        {"items": [EXAMPLE_ITEM], "total": 21, "page": 1, "page_size": 20, "has_next": True}
    )


class UserPage(PageOut[UserOut]):
    """A page of accounts, newest first."""

    model_config = _examples(
        {"items": [EXAMPLE_USER], "total": 1, "page": 1, "page_size": 20, "has_next": False}
    )


class RefreshRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"refresh_token": EXAMPLE_REFRESH_TOKEN}]}
    )

    refresh_token: Annotated[StorableText, Field(min_length=1, max_length=8192)]


EXAMPLE_MAIL_TOKEN = "kq3Z8wJ0yH5tB1vN7xR2mC9dL4fG6sA0pE3uI8oT5zY"  # noqa: S105 (documented example)
MailToken = Annotated[
    StorableText,
    Field(
        min_length=1,
        max_length=512,
        description="The token from the link in the mail",
        examples=[EXAMPLE_MAIL_TOKEN],
    ),
]


class PasswordResetRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"email": "ada@example.com"}]}
    )

    email: EmailField


class PasswordResetConfirm(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"token": EXAMPLE_MAIL_TOKEN, "new_password": "a long and quiet river"}]
        },
    )

    token: MailToken
    new_password: NewPassword


class VerifyEmailRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"token": EXAMPLE_MAIL_TOKEN}]}
    )

    token: MailToken


RESET_REQUESTED = (
    "If an account has this address, a link to reset its password is on its way. "
    "It works once, for 30 minutes."
)


class AcceptedOut(BaseModel):
    model_config = _examples({"message": RESET_REQUESTED})

    message: str
