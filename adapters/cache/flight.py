"""Single flight: concurrent misses of one key compute once, in a task of its own, so a
caller that gives up (a client gone, a timeout) does not cancel it for the others."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class SingleFlight:
    def __init__(self) -> None:
        self._running: dict[Hashable, asyncio.Task[Any]] = {}

    async def run(
        self,
        key: Hashable,
        compute: Callable[[], Awaitable[T]],
        then: Callable[[T], Awaitable[None] | None] | None = None,
    ) -> T:
        """``compute``'s value, shared with every caller asking for ``key`` meanwhile;
        ``then`` (storing it) runs once, inside the flight, before anyone is answered."""
        task = self._running.get(key)
        if task is None:
            task = asyncio.ensure_future(self._fly(compute, then))
            self._running[key] = task
            task.add_done_callback(lambda done: self._landed(key, done))
        result: T = await asyncio.shield(task)
        return result

    @staticmethod
    async def _fly(
        compute: Callable[[], Awaitable[T]], then: Callable[[T], Awaitable[None] | None] | None
    ) -> T:
        value = await compute()
        if then is not None:
            stored = then(value)
            if stored is not None:
                await stored
        return value

    def _landed(self, key: Hashable, task: asyncio.Task[Any]) -> None:
        if self._running.get(key) is task:
            del self._running[key]
        if not task.cancelled():
            task.exception()  # seen here, so a flight every caller left is not reported

    def __len__(self) -> int:
        return len(self._running)
