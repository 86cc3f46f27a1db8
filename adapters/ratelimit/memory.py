"""Failure counting in this process: right for one worker, and the default."""

from __future__ import annotations

import math
from dataclasses import dataclass

from application.ports import Clock


@dataclass(slots=True)
class _Window:
    started: float
    failures: int


class InMemoryRateLimiter:
    """Fixed windows of ``window_seconds`` per key, starting at the key's first failure."""

    def __init__(self, *, limit: int, window_seconds: int, clock: Clock) -> None:
        self._limit = limit
        self._window = window_seconds
        self._clock = clock
        self._windows: dict[str, _Window] = {}

    def _now(self) -> float:
        return self._clock.now().timestamp()

    def _current(self, key: str) -> _Window | None:
        window = self._windows.get(key)
        if window is not None and self._now() >= window.started + self._window:
            del self._windows[key]
            return None
        return window

    async def retry_after(self, key: str) -> int | None:
        window = self._current(key)
        if window is None or window.failures < self._limit:
            return None
        return max(1, math.ceil(window.started + self._window - self._now()))

    async def record_failure(self, key: str) -> None:
        window = self._current(key)
        if window is None:
            self._windows[key] = _Window(self._now(), 1)
        else:
            window.failures += 1

    async def reset(self, key: str) -> None:
        self._windows.pop(key, None)
