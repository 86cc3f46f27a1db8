"""Readiness: does the database answer, quickly, at this code's newest migration?"""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.errors import failure_cause
from adapters.sqlalchemy.revisions import MigrationChain, read_chain
from adapters.sqlalchemy.schema_status import current_revision
from application.errors import StorageUnavailable

CHECK_TIMEOUT_SECONDS = 2.0


class SqlAlchemyHealthProbe:
    """Each check is one query (of the migration version table), and raises
    ``StorageUnavailable`` whose message is the cause in a few words, fit for a readiness
    answer and a log line: no address, no password."""

    def __init__(
        self,
        engine: AsyncEngine,
        timeout: float = CHECK_TIMEOUT_SECONDS,
        chain: MigrationChain | None = None,
    ) -> None:
        self._engine = engine
        self._timeout = timeout
        self._chain = chain or read_chain()

    @property
    def where(self) -> str:
        """The database's URL with its password hidden."""
        return self._engine.url.render_as_string(hide_password=True)

    async def check(self) -> None:
        """The database answers (whatever its schema)."""
        await self._revision()

    async def check_schema(self) -> None:
        """The database answers and is at this code's newest migration."""
        current, head = await self._revision(), self._chain.head
        if current == head:
            return
        if current is not None and not self._chain.knows(current):
            raise StorageUnavailable(f"at revision {current}, which this code does not know")
        at, of = self._chain.position(current), len(self._chain.revisions)
        raise StorageUnavailable(f"behind migration {head} (at {current or 'base'}, {at} of {of})")

    async def _revision(self) -> str | None:
        try:
            async with asyncio.timeout(self._timeout):
                async with self._engine.connect() as connection:
                    return await current_revision(connection)
        except Exception as exc:  # the driver's own too: connecting is not always wrapped
            raise StorageUnavailable(failure_cause(exc)) from exc
