from __future__ import annotations

from application.ports import Clock, TokenService, UnitOfWorkFactory
from application.use_cases.mfa.challenge import challenged_user
from domain.user import User


class ResolveSetupToken:
    """The user a login's set-up token stands for (a user whose role requires a second
    factor and who has none): accepted by set-up and confirm only, and not spent until
    confirm succeeds. ``AuthenticationFailed`` for anything else."""

    def __init__(self, uow_factory: UnitOfWorkFactory, tokens: TokenService, clock: Clock):
        self._uow_factory = uow_factory
        self._tokens = tokens
        self._clock = clock

    async def execute(self, token: str) -> User:
        async with self._uow_factory() as uow:
            return await challenged_user(
                uow, self._tokens, self._clock, token, setup=True, spend=False
            )
