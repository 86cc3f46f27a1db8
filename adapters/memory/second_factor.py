"""TOTP secrets and recovery codes in dicts, for the fast tests: the transaction works on
copies, which replace the committed ones on commit."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import datetime

from domain.mfa import RecoveryCode, TotpCredential


class InMemorySecondFactorStore:
    def __init__(
        self,
        credentials: dict[uuid.UUID, TotpCredential],
        codes: dict[uuid.UUID, RecoveryCode],
    ) -> None:
        self._committed = (credentials, codes)
        self.rollback()

    def commit(self) -> None:
        credentials, codes = self._committed
        credentials.clear()
        credentials.update(self._credentials)
        codes.clear()
        codes.update(self._codes)

    def rollback(self) -> None:
        self._credentials = dict(self._committed[0])
        self._codes = dict(self._committed[1])

    async def get(self, user_id: uuid.UUID) -> TotpCredential | None:
        return self._credentials.get(user_id)

    async def put_pending(self, credential: TotpCredential) -> bool:
        existing = self._credentials.get(credential.user_id)
        if existing is not None and existing.is_on:
            return False
        self._credentials[credential.user_id] = credential
        return True

    async def confirm(self, user_id: uuid.UUID, step: int, now: datetime) -> bool:
        existing = self._credentials.get(user_id)
        if existing is None or existing.is_on:
            return False
        self._credentials[user_id] = dataclasses.replace(existing, confirmed_at=now, last_step=step)
        return True

    async def accept_step(self, user_id: uuid.UUID, step: int) -> bool:
        existing = self._credentials.get(user_id)
        if existing is None or not existing.is_on:
            return False
        if existing.last_step is not None and existing.last_step >= step:
            return False
        self._credentials[user_id] = dataclasses.replace(existing, last_step=step)
        return True

    async def remove(self, user_id: uuid.UUID) -> bool:
        await self.replace_recovery_codes(user_id, [])
        return self._credentials.pop(user_id, None) is not None

    async def replace_recovery_codes(
        self, user_id: uuid.UUID, codes: Sequence[RecoveryCode]
    ) -> None:
        self._codes = {k: c for k, c in self._codes.items() if c.user_id != user_id}
        self._codes.update((code.id, code) for code in codes)

    async def use_recovery_code(self, user_id: uuid.UUID, code_hash: str, now: datetime) -> bool:
        for key, code in self._codes.items():
            if code.user_id == user_id and code.code_hash == code_hash and code.used_at is None:
                self._codes[key] = dataclasses.replace(code, used_at=now)
                return True
        return False

    async def any_on(self) -> bool:
        return any(c.is_on for c in self._credentials.values())

    async def ciphertexts(self) -> list[tuple[uuid.UUID, str]]:
        return [(uid, c.secret_ciphertext) for uid, c in sorted(self._credentials.items())]

    async def replace_ciphertext(self, user_id: uuid.UUID, old: str, new: str) -> bool:
        existing = self._credentials.get(user_id)
        if existing is None or existing.secret_ciphertext != old:
            return False
        self._credentials[user_id] = dataclasses.replace(existing, secret_ciphertext=new)
        return True

    async def unused_recovery_codes(self, user_id: uuid.UUID) -> int:
        return sum(1 for c in self._codes.values() if c.user_id == user_id and c.used_at is None)
