from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, UnitOfWorkFactory
from application.use_cases.mail.tokens import usable_token
from domain.one_time_token import TokenPurpose
from domain.session import token_digest


@dataclass(frozen=True, slots=True)
class CheckMailTokenCommand:
    token: str
    purpose: TokenPurpose


class CheckMailToken:
    """Whether a mailed token would still be accepted for ``purpose``, changing nothing, so
    that the page a link opens can say at once that it is spent or expired. Only the use
    that spends the token decides; this answer may be out of date a moment later."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def execute(self, command: CheckMailTokenCommand) -> None:
        """Raises ``InvalidToken`` for an unknown, spent or expired token."""
        async with self._uow_factory() as uow:
            await usable_token(uow, token_digest(command.token), command.purpose, self._clock)
