"""The bodies of the account operations."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from application.changes import UserChanges
from domain.errors import ValidationFailed
from domain.role import Role
from domain.user import MAX_FULL_NAME_LENGTH, User, normalise_full_name
from entrypoints.http.schemas.common import (
    EXAMPLE_CREATED_AT,
    EXAMPLE_CURSOR,
    EXAMPLE_PASSWORD,
    EXAMPLE_UPDATED_AT,
    EXAMPLE_USER_ID,
    OMITTED,
    ONE_LINE,
    EmailField,
    NewPassword,
    PageOut,
    PasswordField,
    documented_pattern,
    examples,
)
from entrypoints.http.schemas.serialisers import Fields, serialised

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


def _full_name(value: str | None) -> str | None:
    try:
        return normalise_full_name(value)
    except ValidationFailed as exc:
        raise ValueError(exc.message) from exc


FullName = Annotated[
    str | None,
    Field(
        max_length=MAX_FULL_NAME_LENGTH,
        description="Trimmed, no control characters; empty means none",
        examples=["Ada Lovelace"],
    ),
    AfterValidator(_full_name),
    documented_pattern(ONE_LINE),
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


@serialised(User, email="email.value")
class UserOut(BaseModel):
    """An account as others may see it: never a password or its hash."""

    model_config = examples(EXAMPLE_USER)

    id: uuid.UUID
    email: str = Field(description="Normalised: NFKC, lower-cased, the domain in ASCII (punycode)")
    full_name: str | None
    roles: list[Role] = Field(description="Everyone holds `user`; `admin` administers")
    is_active: bool
    is_superuser: bool
    is_verified: bool
    created_at: datetime
    updated_at: datetime

    of: ClassVar[Callable[[User], Fields]]


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


class UserPage(PageOut[UserOut]):
    """A page of accounts, newest first."""

    model_config = examples(
        {
            "items": [EXAMPLE_USER],
            "total": 21,
            "page": 1,
            "page_size": 20,
            "has_next": True,
            "total_is_exact": True,
            "next_cursor": EXAMPLE_CURSOR,
        }
    )
