"""Accounts made through the use cases, as a client makes them: for the unit tests of the
use cases, over the memory adapters of a test container."""

from __future__ import annotations

from typing import TYPE_CHECKING

from application.use_cases.accounts.create_superuser import CreateSuperuserCommand
from application.use_cases.accounts.register_user import RegisterUserCommand

if TYPE_CHECKING:
    from domain.user import User
    from entrypoints.container import Container

PASSWORD = "correct horse battery"


async def account(container: Container, email: str, *, admin: bool = False) -> User:
    """An ordinary account, or with ``admin`` an administrator's, with ``PASSWORD``."""
    if admin:
        command = CreateSuperuserCommand(email=email, password=PASSWORD)
        return await container.create_superuser().execute(command)
    return await container.register_user().execute(
        RegisterUserCommand(email=email, password=PASSWORD)
    )


async def register(container: Container, email: str = "ada@example.com") -> User:
    """Ada's account (her name as she typed it, spaces and all), with ``PASSWORD``."""
    return await container.register_user().execute(
        RegisterUserCommand(email=email, password=PASSWORD, full_name=" Ada ")
    )
