from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, CommonPasswords, PasswordHasher, UnitOfWorkFactory
from application.use_cases.accounts.new_account import create_account
from domain.email import Email
from domain.errors import EmailAlreadyRegistered
from domain.password import check_password_policy
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

    async def check_email(self, email: str) -> None:
        """Raise unless ``email`` is valid and unused: an operator learns that before typing a
        password. ``execute`` checks again (and the unique index decides a race)."""
        address = Email(email)
        async with self._uow_factory() as uow:
            if await uow.users.get_by_email(address) is not None:
                raise EmailAlreadyRegistered()

    def check_password(self, password: str) -> None:
        """Raise ``WeakPassword`` unless ``password`` meets the policy ``execute`` applies."""
        check_password_policy(password, is_common=self._common.contains if self._common else None)

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
