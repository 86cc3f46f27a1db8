"""TOTP secrets and recovery codes in SQL. Accepting a time step and spending a recovery
code are conditional UPDATEs, so of concurrent requests with one code exactly one wins."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Executable, delete, func, insert, or_, select, update

from adapters.sqlalchemy.connection import Connection
from adapters.sqlalchemy.errors import translate_errors
from adapters.sqlalchemy.tables import recovery_codes, totp_credentials, users
from domain.errors import UserNotFound
from domain.mfa import RecoveryCode, TotpCredential

totp = totp_credentials


class SqlAlchemySecondFactorStore:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    async def get(self, user_id: uuid.UUID) -> TotpCredential | None:
        query = select(totp).where(totp.c.user_id == user_id)
        with translate_errors():
            row = (await self._connection.execute(query)).first()
        if row is None:
            return None
        return TotpCredential(
            user_id=row.user_id,
            secret_ciphertext=row.secret_ciphertext,
            created_at=row.created_at,
            confirmed_at=row.confirmed_at,
            last_step=row.last_step,
        )

    async def put_pending(self, credential: TotpCredential) -> bool:
        # The user's row is locked first: two set-ups of one account take turns.
        lock = select(users.c.id).where(users.c.id == credential.user_id).with_for_update()
        with translate_errors():
            if (await self._connection.execute(lock)).first() is None:
                raise UserNotFound()
        existing = await self.get(credential.user_id)
        if existing is not None and existing.is_on:
            return False
        values = {
            "secret_ciphertext": credential.secret_ciphertext,
            "created_at": credential.created_at,
        }
        with translate_errors(UserNotFound):
            if existing is None:
                statement = insert(totp).values(user_id=credential.user_id, **values)
                await self._connection.execute(statement)
                return True
            replace = (
                update(totp)
                .where(totp.c.user_id == credential.user_id, totp.c.confirmed_at.is_(None))
                .values(**values)
            )
            result = await self._connection.execute(replace)
        return bool(result.rowcount == 1)

    async def confirm(self, user_id: uuid.UUID, step: int, now: datetime) -> bool:
        statement = (
            update(totp)
            .where(totp.c.user_id == user_id, totp.c.confirmed_at.is_(None))
            .values(confirmed_at=now, last_step=step)
        )
        return await self._changed_one(statement)

    async def accept_step(self, user_id: uuid.UUID, step: int) -> bool:
        statement = (
            update(totp)
            .where(
                totp.c.user_id == user_id,
                totp.c.confirmed_at.is_not(None),
                or_(totp.c.last_step.is_(None), totp.c.last_step < step),
            )
            .values(last_step=step)
        )
        return await self._changed_one(statement)

    async def remove(self, user_id: uuid.UUID) -> bool:
        with translate_errors():
            await self._connection.execute(
                delete(recovery_codes).where(recovery_codes.c.user_id == user_id)
            )
        return await self._changed_one(delete(totp).where(totp.c.user_id == user_id))

    async def replace_recovery_codes(
        self, user_id: uuid.UUID, codes: Sequence[RecoveryCode]
    ) -> None:
        rows = [
            {
                "id": code.id,
                "user_id": code.user_id,
                "code_hash": code.code_hash,
                "created_at": code.created_at,
                "used_at": code.used_at,
            }
            for code in codes
        ]
        with translate_errors(UserNotFound):
            await self._connection.execute(
                delete(recovery_codes).where(recovery_codes.c.user_id == user_id)
            )
            if rows:
                await self._connection.execute(insert(recovery_codes).values(rows))

    async def use_recovery_code(self, user_id: uuid.UUID, code_hash: str, now: datetime) -> bool:
        statement = (
            update(recovery_codes)
            .where(
                recovery_codes.c.user_id == user_id,
                recovery_codes.c.code_hash == code_hash,
                recovery_codes.c.used_at.is_(None),
            )
            .values(used_at=now)
        )
        return await self._changed_one(statement)

    async def unused_recovery_codes(self, user_id: uuid.UUID) -> int:
        query = select(func.count()).where(
            recovery_codes.c.user_id == user_id, recovery_codes.c.used_at.is_(None)
        )
        with translate_errors():
            return int((await self._connection.execute(query)).scalar_one())

    async def any_on(self) -> bool:
        query = select(totp.c.user_id).where(totp.c.confirmed_at.is_not(None)).limit(1)
        with translate_errors():
            return (await self._connection.execute(query)).first() is not None

    async def ciphertexts(self) -> list[tuple[uuid.UUID, str]]:
        query = select(totp.c.user_id, totp.c.secret_ciphertext).order_by(totp.c.user_id)
        with translate_errors():
            found = await self._connection.execute(query)
            return [(row.user_id, row.secret_ciphertext) for row in found]

    async def replace_ciphertext(self, user_id: uuid.UUID, old: str, new: str) -> bool:
        statement = (
            update(totp)
            .where(totp.c.user_id == user_id, totp.c.secret_ciphertext == old)
            .values(secret_ciphertext=new)
        )
        return await self._changed_one(statement)

    async def _changed_one(self, statement: Executable) -> bool:
        with translate_errors():
            result = await self._connection.execute(statement)
        return bool(result.rowcount == 1)
