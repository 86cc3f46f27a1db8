"""Attempt counting in this process: right for one worker, and the default.

Not ``limits``' own memory storage: that one starts a sweep over every key it holds on each
hit, which, measured, costs 0.9 ms per hit with 10,000 keys and 5 ms with 50,000 (the keys a
spray of logins from many addresses leaves behind), all of it on the event loop. Here a
sweep runs only when the table has doubled since the last one, and time comes from the
``Clock`` port, so that tests can move it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from application.ports import Clock

# Below this many keys the table is never swept: it costs nothing worth reclaiming.
_MIN_SWEEP = 1024


@dataclass(slots=True)
class _Window:
    ends: float
    count: int


class InMemoryRateLimiter:
    """Fixed windows of ``window_seconds`` per key, starting at the key's first attempt.
    Atomic within the process: nothing is awaited between reading a count and writing it."""

    def __init__(self, *, limit: int, window_seconds: int, clock: Clock) -> None:
        self._limit = limit
        self._window = window_seconds
        self._clock = clock
        self._windows: dict[str, _Window] = {}
        self._sweep_above = _MIN_SWEEP

    def _now(self) -> float:
        return self._clock.now().timestamp()

    def _live(self, key: str, now: float) -> _Window | None:
        window = self._windows.get(key)
        if window is not None and now >= window.ends:
            del self._windows[key]
            return None
        return window

    async def hit(self, key: str) -> int | None:
        now = self._now()
        window = self._live(key, now)
        if window is None:
            self._sweep(now)
            window = self._windows[key] = _Window(now + self._window, 0)
        window.count += 1
        if window.count <= self._limit:
            return None
        return max(1, math.ceil(window.ends - now))

    async def give_back(self, key: str) -> None:
        window = self._live(key, self._now())
        if window is not None and window.count > 0:
            window.count -= 1

    async def reset(self, key: str) -> None:
        self._windows.pop(key, None)

    def __len__(self) -> int:
        return len(self._windows)

    def _sweep(self, now: float) -> None:
        """Drop ended windows once the table has doubled: amortised O(1) per hit."""
        if len(self._windows) < self._sweep_above:
            return
        self._windows = {k: w for k, w in self._windows.items() if w.ends > now}
        self._sweep_above = max(_MIN_SWEEP, 2 * len(self._windows))
