"""Your sessions, device by device, and your personal access tokens (`/auth/sessions`,
`/auth/tokens`). Reached by an access token only: a personal token here is a 403."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status

from application.use_cases.sessions.end_session import EndSessionCommand, SessionNotFound
from application.use_cases.sessions.list_sessions import ListSessionsCommand
from application.use_cases.tokens.create_personal_token import CreatePersonalTokenCommand
from application.use_cases.tokens.list_personal_tokens import ListPersonalTokensCommand
from application.use_cases.tokens.revoke_personal_token import (
    PersonalTokenNotFound,
    RevokePersonalTokenCommand,
)
from domain.personal_token import PREFIX, PersonalToken
from entrypoints.http.dependencies import (
    CreatePersonalTokenCase,
    CurrentUser,
    EndSessionCase,
    ListPersonalTokensCase,
    ListSessionsCase,
    RevokePersonalTokenCase,
    origin_of,
    session_of,
)
from entrypoints.http.envelope import FieldError
from entrypoints.http.openapi import documented
from entrypoints.http.paths import API_PREFIX
from entrypoints.http.schemas.credentials import (
    PersonalTokenCreate,
    PersonalTokenCreated,
    PersonalTokenList,
    PersonalTokenOut,
    SessionList,
    SessionOut,
)

router = APIRouter(prefix=f"{API_PREFIX}/auth", tags=["auth"])

UNKNOWN_SCOPE = FieldError(
    field="scopes.0",
    message="Input should be 'items:read', 'items:write' or 'account:read'",
    type="enum",
)


@router.get(
    "/sessions",
    response_model=SessionList,
    summary="List your sessions",
    operation_id="listSessions",
    responses=documented(200, "Your live sessions, newest first", errors=(401, 403, 503)),
)
async def list_sessions(
    request: Request, user: CurrentUser, use_case: ListSessionsCase
) -> SessionList:
    """`{items: [...]}`: one entry per device you are signed in on (a login and its
    refreshes), newest login first: when it started, its last login or refresh, its user
    agent and client address, and `current` for the one this request's access token
    belongs to."""
    current = session_of(request)
    sessions = await use_case.execute(ListSessionsCommand(user.id))
    return SessionList(
        items=[
            SessionOut(
                id=s.id,
                created_at=s.created_at,
                last_used_at=s.last_used_at,
                user_agent=s.user_agent,
                address=s.address,
                current=s.id == current,
            )
            for s in sessions
        ]
    )


@router.delete(
    "/sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="End one of your sessions",
    operation_id="endSession",
    responses=documented(
        204,
        "The session is over, its access tokens included",
        errors=(401, 403, 404, 422, 503),
        examples={404: SessionNotFound()},
    ),
)
async def end_session(
    request: Request, session_id: uuid.UUID, user: CurrentUser, use_case: EndSessionCase
) -> None:
    """End a session from any device: its refresh tokens and its access tokens stop at
    once, and its live sockets close. Another user's session, an unknown id and a session
    that is over already are a 404."""
    await use_case.execute(EndSessionCommand(user.id, session_id, origin=origin_of(request)))


def _token_out(token: PersonalToken) -> PersonalTokenOut:
    return PersonalTokenOut(
        id=token.id,
        name=token.name,
        scopes=sorted(token.scopes),
        prefix=PREFIX + token.shown,
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
    )


@router.post(
    "/tokens",
    status_code=status.HTTP_201_CREATED,
    response_model=PersonalTokenCreated,
    summary="Create a personal access token",
    operation_id="createPersonalToken",
    responses=documented(
        201,
        "The token, shown this once",
        errors=(400, 401, 403, 413, 422, 503),
        examples={422: UNKNOWN_SCOPE},
    ),
)
async def create_token(
    request: Request,
    body: PersonalTokenCreate,
    user: CurrentUser,
    use_case: CreatePersonalTokenCase,
) -> PersonalTokenCreated:
    """A bearer token for scripts, limited to `scopes` (`items:read`, `items:write`,
    `account:read`), valid for `expires_in_days` (1 to 365, default 30). The answer is the
    only time the token is shown: only its SHA-256 digest is stored. It stops when revoked,
    when it expires, and when your sessions end (a password change or reset, a logout of
    every session, a deactivation or a change of roles)."""
    command = CreatePersonalTokenCommand(
        actor=user,
        name=body.name,
        scopes=frozenset(body.scopes),
        expires_in_days=body.expires_in_days,
        origin=origin_of(request),
    )
    created = await use_case.execute(command)
    out = _token_out(created.token)
    return PersonalTokenCreated(**out.model_dump(), token=created.text)


@router.get(
    "/tokens",
    response_model=PersonalTokenList,
    summary="List your personal access tokens",
    operation_id="listPersonalTokens",
    responses=documented(
        200, "Your tokens that were not revoked, newest first", errors=(401, 403, 503)
    ),
)
async def list_tokens(user: CurrentUser, use_case: ListPersonalTokensCase) -> PersonalTokenList:
    """`{items: [...]}`, never the token itself: its first characters (`prefix`) tell
    them apart. Expired tokens are listed until revoked; `last_used_at` is kept to the
    minute."""
    tokens = await use_case.execute(ListPersonalTokensCommand(user.id))
    return PersonalTokenList(items=[_token_out(token) for token in tokens])


@router.delete(
    "/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Revoke a personal access token",
    operation_id="revokePersonalToken",
    responses=documented(
        204,
        "The token is revoked: it stops at once",
        errors=(401, 403, 404, 422, 503),
        examples={404: PersonalTokenNotFound()},
    ),
)
async def revoke_token(
    request: Request, token_id: uuid.UUID, user: CurrentUser, use_case: RevokePersonalTokenCase
) -> None:
    """Another user's token, an unknown id and a token revoked already are a 404."""
    await use_case.execute(RevokePersonalTokenCommand(user.id, token_id, origin=origin_of(request)))
