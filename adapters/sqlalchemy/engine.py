"""The async engine, configured for the two databases Keel runs on."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from adapters.sqlalchemy.driver import connector

logger = logging.getLogger("keel.database")


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int = 10,
    pool_timeout: float = 5.0,
    pool_recycle: int = 1800,
    statement_timeout_ms: int = 15_000,
    connect_timeout: float = 5.0,
) -> AsyncEngine:
    """Pool sizes and timeouts keep a slow or stopped database from piling up requests:
    a connection attempt, a wait for a pooled connection and a statement all give up.
    Connections left dead by a database restart are replaced at their first statement
    (``adapters.sqlalchemy.connection``), not pinged at every checkout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, pool_size, max_overflow, pool_timeout, pool_recycle)
    server_settings = {"application_name": "keel"}
    if statement_timeout_ms:
        server_settings["statement_timeout"] = str(statement_timeout_ms)
    connect_args = {
        "timeout": connect_timeout,
        "command_timeout": statement_timeout_ms / 1000 + 5 if statement_timeout_ms else None,
        "server_settings": server_settings,
    }
    return create_async_engine(
        parsed,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        pool_recycle=pool_recycle,
        async_creator=connector(parsed, connect_args),
    )


async def close_engine(engine: AsyncEngine) -> None:
    """Close the pool's connections, at shutdown once the requests in flight are done."""
    await engine.dispose()
    logger.info("database pool closed")


def _sqlite_engine(
    url: URL, pool_size: int, max_overflow: int, pool_timeout: float, pool_recycle: int
) -> AsyncEngine:
    options: dict[str, Any]
    if url.database in (None, "", ":memory:"):
        # One shared connection, or every checkout would see its own empty database.
        options = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
    else:
        options = {
            "pool_size": pool_size,
            "max_overflow": max_overflow,
            "pool_timeout": pool_timeout,
            "pool_recycle": pool_recycle,
            "connect_args": {"timeout": 5.0},
        }
    engine = create_async_engine(url, **options)
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # WAL lets readers run beside the one writer; the busy timeout queues writers
        # instead of failing them at once.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
    finally:
        cursor.close()
