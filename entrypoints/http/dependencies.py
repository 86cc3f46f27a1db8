"""FastAPI dependencies: each route's use case, typed, from the app's container; and the
caller, from the bearer token.

A route names its use case by type (``update_user: UpdateUserCase``), so "go to definition"
leads from the route to the rule. Each accessor is one awaited call per request, as cheap as
taking the container itself: FastAPI would run a plain function in its thread pool, a hop
per request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import structlog
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

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
from application.use_cases.sessions.get_current_user import GetCurrentUserCommand
from application.use_cases.sessions.login import Login
from application.use_cases.sessions.logout import Logout
from application.use_cases.sessions.logout_all import LogoutAll
from application.use_cases.sessions.refresh_tokens import RefreshTokens
from domain.errors import AuthenticationFailed
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
    dependencies on every request."""

    async def __call__(self, request: Request) -> User:  # type: ignore[override]
        token = await super().__call__(request)
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise AuthenticationFailed()
        container: Container = request.app.state.container
        user = await container.get_current_user().execute(GetCurrentUserCommand(token))
        request.state.user_id = str(user.id)
        structlog.contextvars.bind_contextvars(user_id=str(user.id))
        return user


current_user = _CurrentUser(
    tokenUrl="/api/v1/auth/login", scheme_name="OAuth2PasswordBearer", auto_error=False
)


CurrentUser = Annotated[User, Depends(current_user)]


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
