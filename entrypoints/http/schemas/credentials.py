"""The bodies of the sessions list and of personal access tokens."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from domain.personal_token import DEFAULT_DAYS, MAX_DAYS, MAX_NAME_LENGTH, Scope
from entrypoints.http.schemas.common import (
    EXAMPLE_CREATED_AT,
    EXAMPLE_UPDATED_AT,
    NOT_BLANK_ONE_LINE,
    documented_pattern,
    examples,
)

EXAMPLE_SESSION_ID = "5d2f9c1a-7b3e-4f60-8a19-c4e2b7d05f31"
EXAMPLE_PAT_ID = "9a1c7e3f-2b6d-4e58-b0f4-1d3c5a7e9b20"
EXAMPLE_PAT = "keel_pat_Q3vN8xR2mC9dL4fG6sA0pE3uI8oT5zYkq3Z8wJ0yH5t"


SESSION_EXAMPLE = {
    "id": EXAMPLE_SESSION_ID,
    "created_at": EXAMPLE_CREATED_AT,
    "last_used_at": EXAMPLE_UPDATED_AT,
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
    "address": "203.0.113.7",
    "current": True,
}
TOKEN_EXAMPLE = {
    "id": EXAMPLE_PAT_ID,
    "name": "backup script",
    "scopes": ["items:read"],
    "prefix": "keel_pat_Q3vN",
    "created_at": EXAMPLE_CREATED_AT,
    "expires_at": "2025-07-30T09:30:00Z",
    "last_used_at": EXAMPLE_UPDATED_AT,
}


class SessionOut(BaseModel):
    model_config = examples(SESSION_EXAMPLE)

    id: uuid.UUID = Field(description="The session; the `sid` of its access tokens")
    created_at: datetime = Field(description="The login that started it")
    last_used_at: datetime = Field(description="Its last login or refresh")
    user_agent: str | None = Field(description="As the device sent it, cleaned, at most 256")
    address: str | None = Field(description="The client address (behind `TRUSTED_PROXIES`)")
    current: bool = Field(description="The session of the access token of this request")


class PersonalTokenCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"name": "backup script", "scopes": ["items:read"], "expires_in_days": 90}]
        },
    )

    name: Annotated[
        str,
        Field(
            min_length=1,
            max_length=MAX_NAME_LENGTH,
            description=f"One line of 1 to {MAX_NAME_LENGTH} characters once trimmed, "
            "no control characters",
            examples=["backup script"],
        ),
        documented_pattern(NOT_BLANK_ONE_LINE),
    ]
    scopes: list[Scope] = Field(min_length=1, max_length=len(Scope))
    expires_in_days: int = Field(
        DEFAULT_DAYS, ge=1, le=MAX_DAYS, description=f"Default {DEFAULT_DAYS}"
    )


class PersonalTokenOut(BaseModel):
    model_config = examples(TOKEN_EXAMPLE)

    id: uuid.UUID
    name: str
    scopes: list[Scope]
    prefix: str = Field(description="The token's first characters, to recognise it")
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None = Field(None, description="Kept to the minute")


class PersonalTokenCreated(PersonalTokenOut):
    model_config = examples({**TOKEN_EXAMPLE, "token": EXAMPLE_PAT})

    token: str = Field(description="Shown this once; send it as `Authorization: Bearer <token>`")


class SessionList(BaseModel):
    model_config = examples({"items": [SESSION_EXAMPLE]})

    items: list[SessionOut]


class PersonalTokenList(BaseModel):
    model_config = examples({"items": [TOKEN_EXAMPLE]})

    items: list[PersonalTokenOut]
