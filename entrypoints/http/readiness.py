"""What readiness checks, and the log of each check's state as it changes.

A database that is down fails every request; logging each one would say the same thing
thousands of times and still not say why. Instead the checks' causes are logged when they
change: down for a cause, down for another, recovered. A failed request only wakes a
watcher, which runs the checks until they pass again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from application.errors import StorageUnavailable

if TYPE_CHECKING:
    from entrypoints.container import Container

logger = logging.getLogger("keel.health")
OK = "ok"
RETRY_SECONDS = 1.0


class Readiness:
    def __init__(self, container: Container, retry_seconds: float = RETRY_SECONDS) -> None:
        self._container = container
        self._retry_seconds = retry_seconds
        self._logged: dict[str, str] = {}
        self._watcher: asyncio.Task[None] | None = None

    async def checks(self) -> dict[str, str]:
        """Each check's state: ``ok`` or its cause; a change since the last is logged."""
        checks = await self._run_checks()
        self._log_changes(checks)
        return checks

    async def start(self) -> None:
        """Check once at start-up and warn, one line a failing check: the service starts
        anyway (the database may come up later) and says when it does."""
        checks = await self._run_checks()
        self._logged.update(checks)
        failing = {name: cause for name, cause in checks.items() if cause != OK}
        for name, cause in failing.items():
            where = f" ({self._where(name)})" if self._where(name) else ""
            logger.warning("%s not ready at start-up: %s%s", name, cause, where)
        if failing:
            self._watch()

    def notice_failure(self) -> None:
        """A request found some storage unavailable: find out why, once."""
        self._watch()

    async def stop(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    async def _run_checks(self) -> dict[str, str]:
        """The job queue lives in the database on PostgreSQL: it is not asked while the
        database fails."""
        checks = {"database": await _outcome(self._container.health_probe().check_schema())}
        if checks["database"] == OK:
            checks["jobs"] = await _outcome(self._container.job_queue().check(), "unavailable")
        store = self._container.rate_limit_store()
        if store is not None:
            checks["redis"] = await _outcome(store.check())
        return checks

    def _watch(self) -> None:
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.get_running_loop().create_task(self._until_ready())

    async def _until_ready(self) -> None:
        while True:
            if all(state == OK for state in (await self.checks()).values()):
                return
            await asyncio.sleep(self._retry_seconds)

    def _log_changes(self, checks: dict[str, str]) -> None:
        for name, state in checks.items():
            if self._logged.get(name, OK) == state:
                continue
            if state == OK:
                logger.info("%s check recovered", name)
            else:
                logger.warning("%s check failing: %s", name, state)
            self._logged[name] = state

    def _where(self, name: str) -> str:
        return self._container.health_probe().where if name == "database" else ""


async def _outcome(check: Awaitable[None], cause: str | None = None) -> str:
    try:
        await check
    except StorageUnavailable as exc:
        return cause or exc.message
    return OK
