"""Whether the service can read the second factors it holds."""

from __future__ import annotations

from application.ports import UnitOfWorkFactory

KEY_NEEDED = "ENCRYPTION_KEY is not set and a second factor is on: its secrets cannot be read"


class EncryptionKeyCheck:
    """Production may run without ``ENCRYPTION_KEY`` until a second factor is turned on;
    from then on the key is required. ``cause`` is None while all is well, otherwise the
    one line an operator needs."""

    def __init__(self, uow_factory: UnitOfWorkFactory, key_configured: bool) -> None:
        self._uow_factory = uow_factory
        self._key_configured = key_configured

    @property
    def key_configured(self) -> bool:
        return self._key_configured

    async def cause(self) -> str | None:
        if self._key_configured:
            return None
        async with self._uow_factory() as uow:
            return KEY_NEEDED if await uow.second_factor.any_on() else None
