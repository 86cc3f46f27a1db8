from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, CommonPasswords, PasswordHasher, RateLimiter, UnitOfWorkFactory
from application.throttling import address_key
from application.use_cases.accounts.new_account import create_account
from domain.errors import RegistrationClosed, TooManyAttempts
from domain.security_event import NOWHERE, Origin
from domain.user import User


@dataclass(frozen=True, slots=True)
class RegisterUserCommand:
    email: str
    password: str
    full_name: str | None = None
    client_address: str | None = None
    origin: Origin = NOWHERE


class RegisterUser:
    """Create an ordinary account. The email is stored normalised and must be unused;
    the password must meet the password policy. Refused while registration is closed. The
    account gets a welcome mail and a link to verify its address, recorded with it.
    Registrations are limited per client address (``REGISTRATION_RATE_LIMIT``), counted
    once the input is valid and before the email is looked up or the password hashed."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        hasher: PasswordHasher,
        clock: Clock,
        open_registration: bool = True,
        common_passwords: CommonPasswords | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._hasher = hasher
        self._clock = clock
        self._open_registration = open_registration
        self._common = common_passwords
        self._limiter = limiter

    async def execute(self, command: RegisterUserCommand) -> User:
        if not self._open_registration:
            raise RegistrationClosed()

        async def count_attempt() -> None:
            if self._limiter is not None and command.client_address:
                where = address_key(command.client_address)
                wait = await self._limiter.hit(f"registration:{where}")
                if wait is not None:
                    raise TooManyAttempts(wait, "Too many registrations: try again later")

        return await create_account(
            self._uow_factory,
            self._hasher,
            self._clock,
            email=command.email,
            password=command.password,
            full_name=command.full_name,
            admin=False,
            common=self._common,
            before_work=count_attempt,
            origin=command.origin,
        )
