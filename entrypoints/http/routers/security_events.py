"""The security audit trail, read only: one's own events, and everyone's for
administrators. No route changes or deletes an event (PATCH and DELETE are a 405)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from application.ports import EventPageRequest, SecurityEventFilter
from application.use_cases.audit.list_security_events import ListSecurityEventsCommand
from domain.errors import PermissionDenied, ValidationFailed
from domain.keyset import Cursor
from domain.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE, MAX_PAGE_SIZE
from domain.security_event import SecurityEventType
from entrypoints.http.dependencies import CurrentUser, ListSecurityEventsCase
from entrypoints.http.envelope import FieldError
from entrypoints.http.openapi import documented
from entrypoints.http.paths import API_PREFIX
from entrypoints.http.schemas.security_events import SecurityEventPage

router = APIRouter(prefix=API_PREFIX, tags=["security events"])

BAD_CURSOR = FieldError(field="cursor", message="Not a cursor this service gave", type="cursor")
BAD_USER_ID = FieldError(
    field="user_id", message="Input should be a valid UUID", type="uuid_parsing"
)


async def event_page_request(
    page: Annotated[
        int, Query(ge=1, le=MAX_PAGE, description="Which page, from 1 (or use `cursor`)")
    ] = 1,
    page_size: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Entries per page, 1 to {MAX_PAGE_SIZE}")
    ] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[
        str | None,
        Query(
            max_length=200,
            description="The `next_cursor` of the page before: the next page by key, at the "
            "same cost however deep (instead of `page`)",
        ),
    ] = None,
) -> EventPageRequest:
    if cursor is None:
        return EventPageRequest(page_size=page_size, page=page)
    if page != 1:
        raise ValidationFailed("cursor", "Send either page or cursor, not both", "cursor")
    return EventPageRequest(page_size=page_size, after=Cursor.decode(cursor))


EventPageParams = Annotated[EventPageRequest, Depends(event_page_request)]
TypeParam = Annotated[SecurityEventType | None, Query(description="Only events of this type")]
# RFC 3339 date-times (the offset may be left out: UTC), and nothing else: not a number of
# seconds, which a lax parser would take for one.
_MOMENT = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([Zz]|[+-]\d{2}:\d{2})?$"
)
_MOMENT_SCHEMA = {"format": "date-time"}
SinceParam = Annotated[
    str | None,
    Query(
        max_length=40,
        description="Only events at or after this time (RFC 3339; UTC when no offset)",
        json_schema_extra=_MOMENT_SCHEMA,
    ),
]
UntilParam = Annotated[
    str | None,
    Query(
        max_length=40,
        description="Only events before this time (RFC 3339; UTC when no offset)",
        json_schema_extra=_MOMENT_SCHEMA,
    ),
]


def _utc(field: str, text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        if not _MOMENT.match(text):
            raise ValueError(text)
        moment = datetime.fromisoformat(text.replace("z", "Z"))
        # An offset that carries a moment past year 1 or 9999 overflows here: refused too.
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValidationFailed(field, "Not a date and time (RFC 3339)", "datetime") from None


@router.get(
    "/users/me/security-events",
    response_model=SecurityEventPage,
    summary="Read your own account's security events",
    operation_id="listOwnSecurityEvents",
    responses=documented(
        200, "A page of your security events", errors=(401, 422, 503), examples={422: BAD_CURSOR}
    ),
)
async def list_own_events(
    user: CurrentUser,
    use_case: ListSecurityEventsCase,
    page: EventPageParams,
    type: TypeParam = None,
    since: SinceParam = None,
    until: UntilParam = None,
) -> SecurityEventPage:
    """What happened to your account, newest first: logins (succeeded, failed, throttled),
    password changes and resets, sessions ended, refresh-token reuse, changes of roles or
    activity, and who did each (you, an administrator, or the system), from which address
    and user agent. Never a password, token, hash or code. A `cursor` that this service
    did not give is a 422."""
    where = SecurityEventFilter(type=type, since=_utc("since", since), until=_utc("until", until))
    found = await use_case.execute(
        ListSecurityEventsCommand(actor=user, page=page, where=where, own=True)
    )
    return SecurityEventPage.of(found)


@router.get(
    "/audit-events",
    response_model=SecurityEventPage,
    summary="Read everyone's security events (administrators)",
    operation_id="listAuditEvents",
    responses=documented(
        200,
        "A page of security events",
        errors=(401, 403, 422, 503),
        examples={
            403: PermissionDenied("Only an administrator may read the audit trail"),
            422: [
                BAD_CURSOR,
                FieldError(
                    field="user_id", message="Input should be a valid UUID", type="uuid_parsing"
                ),
            ],
        },
    ),
)
async def list_audit_events(
    user: CurrentUser,
    use_case: ListSecurityEventsCase,
    page: EventPageParams,
    user_id: Annotated[uuid.UUID | None, Query(description="The account it happened to")] = None,
    actor_id: Annotated[uuid.UUID | None, Query(description="Who did it")] = None,
    type: TypeParam = None,
    since: SinceParam = None,
    until: UntilParam = None,
) -> SecurityEventPage:
    """The whole trail, newest first, filtered by account, actor, type and time.
    Administrators only (403 for anyone else). The trail is append-only: nothing here, or
    anywhere in the API, changes or deletes an event."""
    where = SecurityEventFilter(
        user_id=user_id,
        actor_id=actor_id,
        type=type,
        since=_utc("since", since),
        until=_utc("until", until),
    )
    found = await use_case.execute(ListSecurityEventsCommand(actor=user, page=page, where=where))
    return SecurityEventPage.of(found)
