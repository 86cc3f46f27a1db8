from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, CommonPasswords, PasswordHasher, UnitOfWorkFactory
from application.use_cases.accounts.new_account import create_account
from domain.user import User


@dataclass(frozen=True, slots=True)
class CreateSuperuserCommand:
    email: str
    password: str
    full_name: str | None = None


class CreateSuperuser:
    """Create an administrator (roles user and admin, superuser). Works whether or not
    registration is open; the email must be unused and the password meet the policy."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        hasher: PasswordHasher,
        clock: Clock,
        common_passwords: CommonPasswords | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._hasher = hasher
        self._clock = clock
        self._common = common_passwords

    async def execute(self, command: CreateSuperuserCommand) -> User:
        return await create_account(
            self._uow_factory,
            self._hasher,
            self._clock,
            email=command.email,
            password=command.password,
            full_name=command.full_name,
            admin=True,
            common=self._common,
        )
