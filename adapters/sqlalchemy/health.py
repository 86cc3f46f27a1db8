"""Readiness: does the database answer, and quickly?"""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.errors import translate_errors
from application.errors import StorageUnavailable

CHECK_TIMEOUT_SECONDS = 2.0


class SqlAlchemyHealthProbe:
    def __init__(self, engine: AsyncEngine, timeout: float = CHECK_TIMEOUT_SECONDS) -> None:
        self._engine = engine
        self._timeout = timeout

    async def check(self) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                with translate_errors():
                    async with self._engine.connect() as connection:
                        await connection.execute(text("SELECT 1"))
        except TimeoutError as exc:
            raise StorageUnavailable("The database did not answer in time") from exc
