"""Compare-and-set writes, made again on a fresh read when a concurrent writer got there
first."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from typing import TypeVar

from application.ports import UnitOfWork, UnitOfWorkFactory
from domain.errors import DomainError

T = TypeVar("T")

# The last attempt locks the row while it reads, so that it cannot lose the race.
ATTEMPTS = 4


class Lost(enum.Enum):
    """What an attempt answers when its conditional write found the row changed."""

    LOST = enum.auto()


LOST = Lost.LOST


async def until_stored(
    uow_factory: UnitOfWorkFactory,
    attempt: Callable[[UnitOfWork, bool], Awaitable[T | Lost]],
    busy: Callable[[], DomainError],
) -> T:
    """Run ``attempt(uow, lock)`` in a transaction of its own and commit it, until it does
    not answer ``LOST``. ``lock`` is true on the last attempt: it should read for update.
    Where the database has no row locks (SQLite) even that one can lose: ``busy()`` is
    raised then, and nothing is stored."""
    for number in range(1, ATTEMPTS + 1):
        async with uow_factory() as uow:
            outcome = await attempt(uow, number == ATTEMPTS)
            if outcome is not LOST:
                await uow.commit()
                return outcome
    raise busy()
