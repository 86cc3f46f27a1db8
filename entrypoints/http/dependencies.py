"""FastAPI dependencies: each route's use case, typed, from the app's container; and the
caller, from the bearer token.

A route names its use case by type (``update_user: UpdateUserCase``), so "go to definition"
leads from the route to the rule. Each accessor is one awaited call per request, as cheap as
taking the container itself: FastAPI would run a plain function in its thread pool, a hop
per request."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from application.use_cases.accounts.delete_user import DeleteUser
from application.use_cases.accounts.get_user import GetUser
from application.use_cases.accounts.list_users import ListUsers
from application.use_cases.accounts.register_user import RegisterUser
from application.use_cases.accounts.update_user import UpdateUser
from application.use_cases.items.create_item import CreateItem
from application.use_cases.items.delete_item import DeleteItem
from application.use_cases.items.get_item import GetItem
from application.use_cases.items.list_items import ListItems
from application.use_cases.items.update_item import UpdateItem
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
from domain.user import User
from entrypoints.container import Container
from entrypoints.metrics import Metrics

MAX_TOKEN_LENGTH = 8192


def client_address(request: Request) -> str | None:
    """The client's address, as the client-address middleware resolved it."""
    return request.client.host if request.client else None


def container_of(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


async def get_container(request: Request) -> Container:
    return container_of(request)


ContainerDep = Annotated[Container, Depends(get_container)]


async def _metrics(request: Request) -> Metrics:
    return container_of(request).metrics()


MetricsDep = Annotated[Metrics, Depends(_metrics)]


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


# Accounts
async def _register_user(request: Request) -> RegisterUser:
    return container_of(request).register_user()


async def _get_user(request: Request) -> GetUser:
    return container_of(request).get_user()


async def _list_users(request: Request) -> ListUsers:
    return container_of(request).list_users()


async def _update_user(request: Request) -> UpdateUser:
    return container_of(request).update_user()


async def _delete_user(request: Request) -> DeleteUser:
    return container_of(request).delete_user()


RegisterUserCase = Annotated[RegisterUser, Depends(_register_user)]
GetUserCase = Annotated[GetUser, Depends(_get_user)]
ListUsersCase = Annotated[ListUsers, Depends(_list_users)]
UpdateUserCase = Annotated[UpdateUser, Depends(_update_user)]
DeleteUserCase = Annotated[DeleteUser, Depends(_delete_user)]


# Sessions
async def _login(request: Request) -> Login:
    return container_of(request).login()


async def _refresh_tokens(request: Request) -> RefreshTokens:
    return container_of(request).refresh_tokens()


async def _logout(request: Request) -> Logout:
    return container_of(request).logout()


async def _logout_all(request: Request) -> LogoutAll:
    return container_of(request).logout_all()


LoginCase = Annotated[Login, Depends(_login)]
RefreshTokensCase = Annotated[RefreshTokens, Depends(_refresh_tokens)]
LogoutCase = Annotated[Logout, Depends(_logout)]
LogoutAllCase = Annotated[LogoutAll, Depends(_logout_all)]


# Items
async def _create_item(request: Request) -> CreateItem:
    return container_of(request).create_item()


async def _get_item(request: Request) -> GetItem:
    return container_of(request).get_item()


async def _list_items(request: Request) -> ListItems:
    return container_of(request).list_items()


async def _update_item(request: Request) -> UpdateItem:
    return container_of(request).update_item()


async def _delete_item(request: Request) -> DeleteItem:
    return container_of(request).delete_item()


CreateItemCase = Annotated[CreateItem, Depends(_create_item)]
GetItemCase = Annotated[GetItem, Depends(_get_item)]
ListItemsCase = Annotated[ListItems, Depends(_list_items)]
UpdateItemCase = Annotated[UpdateItem, Depends(_update_item)]
DeleteItemCase = Annotated[DeleteItem, Depends(_delete_item)]


# Mail: password reset and address verification
async def _request_password_reset(request: Request) -> RequestPasswordReset:
    return container_of(request).request_password_reset()


async def _confirm_password_reset(request: Request) -> ConfirmPasswordReset:
    return container_of(request).confirm_password_reset()


async def _verify_email(request: Request) -> VerifyEmail:
    return container_of(request).verify_email()


async def _resend_verification(request: Request) -> ResendVerification:
    return container_of(request).resend_verification()


RequestPasswordResetCase = Annotated[RequestPasswordReset, Depends(_request_password_reset)]
ConfirmPasswordResetCase = Annotated[ConfirmPasswordReset, Depends(_confirm_password_reset)]
VerifyEmailCase = Annotated[VerifyEmail, Depends(_verify_email)]
ResendVerificationCase = Annotated[ResendVerification, Depends(_resend_verification)]
