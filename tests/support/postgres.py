"""PostgreSQL for the tests: the throwaway server (the tooling's, shared with the benchmark)
and a row lock held from a session of the test's own."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from harness.ports import free_port
from harness.postgres import PostgresServer, find_bindir

__all__ = ["PostgresServer", "RowLock", "find_bindir", "free_port", "row_locked"]


class RowLock:
    """A session of the test's own that holds a row lock."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def wait_for_waiter(self) -> None:
        """Return once some other session is blocked behind this lock (within 5 s)."""
        pid = self.connection.get_server_pid()
        query = "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))"
        try:
            async with asyncio.timeout(5):
                while True:
                    if await self.connection.fetchval(query, pid):
                        return
                    await asyncio.sleep(0.05)
        except TimeoutError:
            raise AssertionError("nothing is waiting on the lock") from None


@asynccontextmanager
async def row_locked(url: str, table: str, row_id: str | uuid.UUID) -> AsyncIterator[RowLock]:
    """Lock one row (``SELECT ... FOR UPDATE``) until the block ends, as a slow transaction
    elsewhere would: writes to that row wait meanwhile. ``url`` may be Keel's asyncpg URL."""
    connection = await asyncpg.connect(url.replace("+asyncpg", "", 1))
    try:
        async with connection.transaction():
            await connection.execute(
                f"SELECT id FROM {table} WHERE id = $1 FOR UPDATE",
                uuid.UUID(str(row_id)),
            )
            yield RowLock(connection)
    finally:
        await connection.close()
