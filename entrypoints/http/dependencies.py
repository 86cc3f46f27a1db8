"""FastAPI dependencies: each route's use case, typed, from the app's container; and the
caller, from the bearer token.

A route names its use case by type (``update_user: UpdateUserCase``), so "go to definition"
leads from the route to the rule. Each accessor is one awaited call per request, as cheap as
taking the container itself: FastAPI would run a plain function in its thread pool, a hop
per request."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import structlog
from fastapi import Depends, Request, Security
from fastapi.security import OAuth2PasswordBearer, SecurityScopes

from application.use_cases.accounts.delete_user import DeleteUser
from application.use_cases.accounts.get_user import GetUser
from application.use_cases.accounts.list_users import ListUsers
from application.use_cases.accounts.register_user import RegisterUser
from application.use_cases.accounts.update_user import UpdateUser
from application.use_cases.attachments.delete_attachment import DeleteAttachment
from application.use_cases.attachments.read_attachments import GetAttachment, ListAttachments
from application.use_cases.attachments.upload_attachment import UploadAttachment
from application.use_cases.audit.list_security_events import ListSecurityEvents
from application.use_cases.items.create_item import CreateItem
from application.use_cases.items.delete_item import DeleteItem
from application.use_cases.items.get_item import GetItem
from application.use_cases.items.list_items import ListItems
from application.use_cases.items.update_item import UpdateItem
from application.use_cases.mail.check_mail_token import CheckMailToken
from application.use_cases.mail.confirm_password_reset import ConfirmPasswordReset
from application.use_cases.mail.request_password_reset import RequestPasswordReset
from application.use_cases.mail.resend_verification import ResendVerification
from application.use_cases.mail.verify_email import VerifyEmail
from application.use_cases.sessions.end_session import EndSession
from application.use_cases.sessions.get_current_user import GetCurrentUserCommand
from application.use_cases.sessions.list_sessions import ListSessions
from application.use_cases.sessions.login import Login
from application.use_cases.sessions.logout import Logout
from application.use_cases.sessions.logout_all import LogoutAll
from application.use_cases.sessions.refresh_tokens import RefreshTokens
from application.use_cases.tokens.authenticate_personal_token import (
    AuthenticatePersonalTokenCommand,
)
from application.use_cases.tokens.create_personal_token import CreatePersonalToken
from application.use_cases.tokens.list_personal_tokens import ListPersonalTokens
from application.use_cases.tokens.revoke_personal_token import RevokePersonalToken
from domain.errors import AuthenticationFailed
from domain.personal_token import Scope, is_personal_token
from domain.security_event import Origin
from domain.user import User
from entrypoints.container import Container
from entrypoints.metrics import Metrics

MAX_TOKEN_LENGTH = 8192
T = TypeVar("T")


def client_address(request: Request) -> str | None:
    """The client's address, as the client-address middleware resolved it."""
    return request.client.host if request.client else None


def origin_of(request: Request) -> Origin:
    """Where the request came from, as the security trail records it: the resolved client
    address and the user agent, cleaned and bounded."""
    return Origin.of(client_address(request), request.headers.get("user-agent"))


def container_of(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


async def get_container(request: Request) -> Container:
    return container_of(request)


ContainerDep = Annotated[Container, Depends(get_container)]


class _CurrentUser(OAuth2PasswordBearer):
    """The caller, from the bearer token. The scheme is documented as OAuth2's password flow,
    and the token read and resolved in this one dependency: FastAPI solves every level of
    dependencies on every request.

    This is also the one place where scopes are enforced: a route that admits personal
    access tokens declares the scopes it requires (``Security(current_user, scopes=...)``,
    through ``ItemsReader``, ``ItemsWriter`` and ``AccountReader``); a personal token that
    lacks one, or any personal token on a route that declares none, is a 403. Access
    tokens (JWTs) are not scoped."""

    async def __call__(  # type: ignore[override]
        self, request: Request, security_scopes: SecurityScopes
    ) -> User:
        token = await super().__call__(request)
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise AuthenticationFailed()
        container: Container = request.app.state.container
        if is_personal_token(token):
            command = AuthenticatePersonalTokenCommand(token, _required(security_scopes))
            user = await container.authenticate_personal_token().execute(command)
        else:
            signed = await container.get_current_user().signed_in(GetCurrentUserCommand(token))
            user = signed.user
            request.state.session_id = signed.session_id
        request.state.user_id = str(user.id)
        structlog.contextvars.bind_contextvars(user_id=str(user.id))
        return user


def _required(security_scopes: SecurityScopes) -> frozenset[Scope]:
    try:
        return frozenset(Scope(name) for name in security_scopes.scopes)
    except ValueError:  # a route declared a scope that does not exist: refuse, never widen
        return frozenset()


BEARER_DESCRIPTION = (
    "A bearer token: an access token from `POST /api/v1/auth/login` (or `/auth/refresh`), "
    "or a personal access token (`keel_pat_...`, from `POST /api/v1/auth/tokens`). A personal "
    "token works only on the routes whose security requirement names a scope it holds "
    "(403 `FORBIDDEN` elsewhere); it never reaches sessions, tokens, MFA, password, account "
    "deletion or administration routes, nor the WebSocket."
)

current_user = _CurrentUser(
    tokenUrl="/api/v1/auth/login",
    scheme_name="OAuth2PasswordBearer",
    auto_error=False,
    description=BEARER_DESCRIPTION,
    scopes={
        Scope.ITEMS_READ.value: "Read your items (personal access tokens)",
        Scope.ITEMS_WRITE.value: "Create, change and delete your items (personal access tokens)",
        Scope.ACCOUNT_READ.value: "Read your account (personal access tokens)",
    },
)


# The caller by an access token only: a personal access token here is a 403.
CurrentUser = Annotated[User, Depends(current_user)]
# The caller by an access token, or by a personal access token holding the scope.
ItemsReader = Annotated[User, Security(current_user, scopes=[Scope.ITEMS_READ.value])]
ItemsWriter = Annotated[User, Security(current_user, scopes=[Scope.ITEMS_WRITE.value])]
AccountReader = Annotated[User, Security(current_user, scopes=[Scope.ACCOUNT_READ.value])]


def session_of(request: Request) -> uuid.UUID | None:
    """The session (``sid``) of the caller's access token, once ``CurrentUser`` resolved it."""
    session_id: uuid.UUID | None = getattr(request.state, "session_id", None)
    return session_id


def _use_case(pick: Callable[[Container], T]) -> Callable[[Request], Awaitable[T]]:
    """The dependency giving a route the use case ``pick`` takes from the app's container."""

    async def dependency(request: Request) -> T:
        return pick(container_of(request))

    return dependency


MetricsDep = Annotated[Metrics, Depends(_use_case(lambda c: c.metrics()))]

# Accounts
RegisterUserCase = Annotated[RegisterUser, Depends(_use_case(lambda c: c.register_user()))]
GetUserCase = Annotated[GetUser, Depends(_use_case(lambda c: c.get_user()))]
ListUsersCase = Annotated[ListUsers, Depends(_use_case(lambda c: c.list_users()))]
UpdateUserCase = Annotated[UpdateUser, Depends(_use_case(lambda c: c.update_user()))]
DeleteUserCase = Annotated[DeleteUser, Depends(_use_case(lambda c: c.delete_user()))]

ListSecurityEventsCase = Annotated[
    ListSecurityEvents, Depends(_use_case(lambda c: c.list_security_events()))
]

# Sessions
LoginCase = Annotated[Login, Depends(_use_case(lambda c: c.login()))]
RefreshTokensCase = Annotated[RefreshTokens, Depends(_use_case(lambda c: c.refresh_tokens()))]
LogoutCase = Annotated[Logout, Depends(_use_case(lambda c: c.logout()))]
LogoutAllCase = Annotated[LogoutAll, Depends(_use_case(lambda c: c.logout_all()))]
ListSessionsCase = Annotated[ListSessions, Depends(_use_case(lambda c: c.list_sessions()))]
EndSessionCase = Annotated[EndSession, Depends(_use_case(lambda c: c.end_session()))]

# Personal access tokens
CreatePersonalTokenCase = Annotated[
    CreatePersonalToken, Depends(_use_case(lambda c: c.create_personal_token()))
]
ListPersonalTokensCase = Annotated[
    ListPersonalTokens, Depends(_use_case(lambda c: c.list_personal_tokens()))
]
RevokePersonalTokenCase = Annotated[
    RevokePersonalToken, Depends(_use_case(lambda c: c.revoke_personal_token()))
]

# Items
CreateItemCase = Annotated[CreateItem, Depends(_use_case(lambda c: c.create_item()))]
GetItemCase = Annotated[GetItem, Depends(_use_case(lambda c: c.get_item()))]
ListItemsCase = Annotated[ListItems, Depends(_use_case(lambda c: c.list_items()))]
UpdateItemCase = Annotated[UpdateItem, Depends(_use_case(lambda c: c.update_item()))]
DeleteItemCase = Annotated[DeleteItem, Depends(_use_case(lambda c: c.delete_item()))]

# Attachments
UploadAttachmentCase = Annotated[
    UploadAttachment, Depends(_use_case(lambda c: c.upload_attachment()))
]
ListAttachmentsCase = Annotated[ListAttachments, Depends(_use_case(lambda c: c.list_attachments()))]
GetAttachmentCase = Annotated[GetAttachment, Depends(_use_case(lambda c: c.get_attachment()))]
DeleteAttachmentCase = Annotated[
    DeleteAttachment, Depends(_use_case(lambda c: c.delete_attachment()))
]

# Mail: password reset and address verification
RequestPasswordResetCase = Annotated[
    RequestPasswordReset, Depends(_use_case(lambda c: c.request_password_reset()))
]
ConfirmPasswordResetCase = Annotated[
    ConfirmPasswordReset, Depends(_use_case(lambda c: c.confirm_password_reset()))
]
VerifyEmailCase = Annotated[VerifyEmail, Depends(_use_case(lambda c: c.verify_email()))]
ResendVerificationCase = Annotated[
    ResendVerification, Depends(_use_case(lambda c: c.resend_verification()))
]
CheckMailTokenCase = Annotated[CheckMailToken, Depends(_use_case(lambda c: c.check_mail_token()))]
