"""What readiness checks, and the log of each check's state as it changes.

A database that is down fails every request; logging each one would say the same thing
thousands of times and still not say why. Instead the checks' causes are logged when they
change: down for a cause, down for another, recovered. A failed request only wakes a
watcher, which runs the checks until they pass again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from application.errors import StorageUnavailable
from application.ports.blobs import BlobStoreUnavailable

if TYPE_CHECKING:
    from application.use_cases.mfa.key_check import EncryptionKeyCheck
    from entrypoints.container import Container

logger = logging.getLogger("keel.health")
OK = "ok"
RETRY_SECONDS = 1.0
# The storage check writes a probe object: a passing answer is kept this long, so that a
# load balancer probing every second costs the store a write per worker every so often.
STORAGE_CHECK_SECONDS = 10.0


class Readiness:
    def __init__(
        self,
        container: Container,
        retry_seconds: float = RETRY_SECONDS,
        storage_seconds: float = STORAGE_CHECK_SECONDS,
    ) -> None:
        self._container = container
        self._retry_seconds = retry_seconds
        self._storage_seconds = storage_seconds
        self._storage: tuple[float, str] | None = None  # until when, and the state
        self._storage_lock: asyncio.Lock | None = None
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
        checks["storage"] = await self._storage_state()
        key_check = self._container.encryption_key_check()
        if not key_check.key_configured and checks["database"] == OK:
            checks["encryption"] = await _key_state(key_check)
        return checks

    async def _storage_state(self) -> str:
        """One probe at a time; a passing answer is kept for ``storage_seconds``, a failing
        one only until the next retry, so that a recovery is seen soon."""
        if self._storage_lock is None:
            self._storage_lock = asyncio.Lock()
        async with self._storage_lock:
            if self._storage is not None and time.monotonic() < self._storage[0]:
                return self._storage[1]
            try:
                await self._container.blob_store().check()
                state = OK
            except BlobStoreUnavailable as exc:
                state = exc.reason
            keep = self._storage_seconds if state == OK else self._retry_seconds
            self._storage = (time.monotonic() + keep, state)
            return state

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


async def _key_state(key_check: EncryptionKeyCheck) -> str:
    """Asked only where no key is set: a second factor turned on makes the service unready
    until ``ENCRYPTION_KEY`` is."""
    try:
        cause = await key_check.cause()
    except StorageUnavailable as exc:
        return exc.message
    return cause or OK


async def _outcome(check: Awaitable[None], cause: str | None = None) -> str:
    try:
        await check
    except StorageUnavailable as exc:
        return cause or exc.message
    return OK
