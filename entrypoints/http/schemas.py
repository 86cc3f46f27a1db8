"""Request and response bodies. They parse and validate; the rules come from the domain."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from domain.email import Email
from domain.errors import ValidationFailed
from domain.password import MAX_LENGTH, MIN_LENGTH, check_password_policy
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
