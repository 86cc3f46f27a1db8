from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from application.ports import (
    Clock,
    CommonPasswords,
    PasswordHasher,
    RateLimiter,
    UnitOfWorkFactory,
)
from application.throttling import address_key
from domain.email import Email
from domain.errors import EmailAlreadyRegistered, RegistrationClosed, TooManyAttempts
from domain.events import UserRegistered, VerificationRequested
from domain.password import check_password_policy
from domain.user import User, normalise_full_name


@dataclass(frozen=True, slots=True)
class RegisterUserCommand:
    email: str
    password: str
    full_name: str | None = None
    client_address: str | None = None


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
            command,
            admin=False,
            common=self._common,
            before_work=count_attempt,
        )


async def create_account(
    uow_factory: UnitOfWorkFactory,
    hasher: PasswordHasher,
    clock: Clock,
    command: RegisterUserCommand,
    *,
    admin: bool,
    common: CommonPasswords | None = None,
    before_work: Callable[[], Awaitable[None]] | None = None,
) -> User:
    """Validate, check the email is free, hash off the loop, then store in one transaction.
    ``before_work`` is awaited once the input is valid, before anything is looked up or
    hashed."""
    email = Email(command.email)
    check_password_policy(command.password, is_common=common.contains if common else None)
    full_name = normalise_full_name(command.full_name)
    if before_work is not None:
        await before_work()
    async with uow_factory() as uow:
        # Fail fast before the expensive hash; the unique index still decides races.
        if await uow.users.get_by_email(email) is not None:
            raise EmailAlreadyRegistered()
    hashed = await hasher.hash(command.password)
    user = User.register(
        email=email, hashed_password=hashed, full_name=full_name, now=clock.now(), admin=admin
    )
    async with uow_factory() as uow:
        await uow.users.add(user)
        if not admin:  # an administrator's address is vouched for by the operator
            uow.emit(UserRegistered(user.id))
            uow.emit(VerificationRequested(user.id, str(user.email)))
        await uow.commit()
    return user
