"""The answers of the audit trail's reads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from application.ports import EventPage
from domain.security_event import SecurityEvent, SecurityEventType
from entrypoints.http.schemas.common import EXAMPLE_CREATED_AT, EXAMPLE_USER_ID, examples

EXAMPLE_EVENT: dict[str, Any] = {
    "id": "0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f",
    "type": "user.roles_changed",
    "user_id": EXAMPLE_USER_ID,
    "actor_id": "5a1e3c7b-2d4f-4e6a-8b9c-0d1e2f3a4b5c",
    "address": "203.0.113.7",
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
    "at": EXAMPLE_CREATED_AT,
    "details": {"roles": ["admin", "user"], "previous_roles": ["user"]},
}


class SecurityEventOut(BaseModel):
    model_config = examples(EXAMPLE_EVENT)

    id: uuid.UUID
    type: SecurityEventType = Field(description="What happened")
    user_id: uuid.UUID | None = Field(description="The account it happened to")
    actor_id: uuid.UUID | None = Field(
        description="Who did it: the user, an administrator; null for the system, the "
        "command line or an unknown client (a refused login)"
    )
    address: str | None = Field(description="The client's address, behind trusted proxies")
    user_agent: str | None = Field(description="The client's user agent, at most 256 characters")
    at: datetime
    details: dict[str, Any] = Field(description="A few plain facts; never a secret")

    @classmethod
    def of(cls, event: SecurityEvent) -> SecurityEventOut:
        return cls(
            id=event.id,
            type=event.type,
            user_id=event.user_id,
            actor_id=event.actor_id,
            address=event.address,
            user_agent=event.user_agent,
            at=event.at,
            details=event.details,
        )


class SecurityEventPage(BaseModel):
    model_config = examples(
        {
            "items": [EXAMPLE_EVENT],
            "total": 42,
            "page": 1,
            "page_size": 20,
            "has_next": True,
            "next_cursor": "MjAyNS0wNS0wMVQwOTozMDowMCswMDowMHwwYzlkOGU3Znwy",
        }
    )

    items: list[SecurityEventOut]
    total: int = Field(examples=[42])
    page: int = Field(examples=[1])
    page_size: int = Field(examples=[20])
    has_next: bool = Field(examples=[True])
    next_cursor: str | None = Field(
        description="Send as `cursor` for the next page (null on the last)"
    )

    @classmethod
    def of(cls, page: EventPage) -> SecurityEventPage:
        return cls(
            items=[SecurityEventOut.of(event) for event in page.items],
            total=page.total,
            page=page.page,
            page_size=page.page_size,
            has_next=page.has_next,
            next_cursor=page.next_cursor,
        )
