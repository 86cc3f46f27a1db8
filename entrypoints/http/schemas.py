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
from domain.user import MAX_FULL_NAME_LENGTH, User, normalise_full_name


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


EmailField = Annotated[
    str, Field(max_length=320, examples=["ada@example.com"]), AfterValidator(_email)
]
NewPassword = Annotated[
    str,
    Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH, examples=["correct horse battery"]),
    AfterValidator(_password),
]
FullName = Annotated[
    str | None,
    Field(max_length=MAX_FULL_NAME_LENGTH, examples=["Ada Lovelace"]),
    AfterValidator(_full_name),
]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailField
    password: NewPassword
    full_name: FullName = None


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    full_name: str | None
    roles: list[str]
    is_active: bool
    is_superuser: bool
    is_verified: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            email=user.email.value,
            full_name=user.full_name,
            roles=sorted(role.value for role in user.roles),
            is_active=user.is_active,
            is_superuser=user.is_superuser,
            is_verified=user.is_verified,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


class TokenPairOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = Field("bearer", examples=["bearer"])
    expires_in: int = Field(examples=[900], description="Seconds until the access token expires")


class HealthOut(BaseModel):
    status: str = Field(examples=["ok"])
    checks: dict[str, str] = Field(default_factory=dict)


PasswordField = Annotated[str, Field(min_length=1, max_length=1024)]
# The default of a field that may be left out of a PATCH but not sent as null: the field is
# not nullable in the schema, so an explicit null is a 422, and left out it is not "set".
OMITTED: Any = None


class UserUpdate(BaseModel):
    """Only the fields sent are changed. ``null`` is refused for every field but
    ``full_name``."""

    model_config = ConfigDict(extra="forbid")

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


TitleField = Annotated[str, Field(min_length=1, max_length=MAX_TITLE_LENGTH, examples=["Buy milk"])]
DescriptionField = Annotated[
    str | None, Field(max_length=MAX_DESCRIPTION_LENGTH, examples=["Two litres, semi-skimmed"])
]


class ItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: TitleField
    description: DescriptionField = None


class ItemUpdate(BaseModel):
    """Only the fields sent are changed; ``title`` cannot be ``null``."""

    model_config = ConfigDict(extra="forbid")

    title: TitleField = OMITTED
    description: DescriptionField = None

    def changes(self) -> ItemChanges:
        return ItemChanges(**self.model_dump(include=self.model_fields_set))


class ItemOut(BaseModel):
    id: uuid.UUID
    owner_id: uuid.UUID
    title: str
    description: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, item: Item) -> ItemOut:
        return cls(
            id=item.id,
            owner_id=item.owner_id,
            title=item.title,
            description=item.description,
            created_at=item.created_at,
            updated_at=item.updated_at,
        )


T = TypeVar("T")


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(examples=[42])
    page: int = Field(examples=[1])
    page_size: int = Field(examples=[20])
    has_next: bool = Field(examples=[True])

    @classmethod
    def of(cls, page: Page[Any], items: list[T]) -> PageOut[T]:
        return cls(
            items=items,
            total=page.total,
            page=page.page,
            page_size=page.page_size,
            has_next=page.has_next,
        )


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: Annotated[str, Field(min_length=1, max_length=8192)]
