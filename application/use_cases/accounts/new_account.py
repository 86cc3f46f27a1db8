"""What registering an account and creating an administrator share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from application.ports import Clock, CommonPasswords, PasswordHasher, UnitOfWorkFactory
from domain.email import Email
from domain.errors import EmailAlreadyRegistered
from domain.events import UserRegistered, VerificationRequested
from domain.password import check_password_policy
from domain.security_event import NOWHERE, Origin, SecurityEvent, SecurityEventType
from domain.user import User, normalise_full_name


async def create_account(
    uow_factory: UnitOfWorkFactory,
    hasher: PasswordHasher,
    clock: Clock,
    *,
    email: str,
    password: str,
    full_name: str | None,
    admin: bool,
    common: CommonPasswords | None = None,
    before_work: Callable[[], Awaitable[None]] | None = None,
    origin: Origin = NOWHERE,
) -> User:
    """Validate, check the email is free, hash off the loop, then store in one transaction.
    ``before_work`` is awaited once the input is valid, before anything is looked up or
    hashed."""
    address = Email(email)
    check_password_policy(password, is_common=common.contains if common else None)
    name = normalise_full_name(full_name)
    if before_work is not None:
        await before_work()
    async with uow_factory() as uow:
        # Fail fast before the expensive hash; the unique index still decides races.
        if await uow.users.get_by_email(address) is not None:
            raise EmailAlreadyRegistered()
    hashed = await hasher.hash(password)
    user = User.register(
        email=address, hashed_password=hashed, full_name=name, now=clock.now(), admin=admin
    )
    async with uow_factory() as uow:
        await uow.users.add(user)
        if not admin:  # an administrator's address is vouched for by the operator
            uow.emit(UserRegistered(user.id))
            uow.emit(VerificationRequested(user.id, str(user.email)))
        # A registration is the user's own act; an administrator is made by the operator.
        await uow.security_events.add(
            SecurityEvent.record(
                SecurityEventType.USER_REGISTERED,
                user_id=user.id,
                actor_id=None if admin else user.id,
                origin=origin,
                at=user.created_at,
                details={"admin": admin},
            )
        )
        await uow.commit()
    return user
