"""Closing live sockets with 1001 when the server stops.

Uvicorn, told to stop, ends every WebSocket at once with 1012 (service restart). Its
SIGTERM handler is wrapped here: the sockets are asked to close with 1001 (going away)
first, and uvicorn's own stop follows once they have, or after a second at most."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Awaitable, Callable
from types import FrameType

# Sockets get this long to send their close before the server's own stop goes ahead.
CLOSE_SECONDS = 1.0


def close_sockets_on_sigterm(
    stop: Callable[[], None], all_closed: Callable[[], Awaitable[object]]
) -> Callable[[], None]:
    """Wrap the SIGTERM handler (uvicorn's) of this process; returns what undoes it. Does
    nothing off the main thread (an in-process test client) or without a handler to wrap."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.getsignal(signal.SIGTERM)
    if not callable(previous):
        return lambda: None
    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task[None]] = set()

    async def close_then_stop(signum: int, frame: FrameType | None) -> None:
        stop()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CLOSE_SECONDS):
                await all_closed()
        previous(signum, frame)

    def handler(signum: int, frame: FrameType | None) -> None:
        def start() -> None:
            task = loop.create_task(close_then_stop(signum, frame))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        loop.call_soon_threadsafe(start)

    signal.signal(signal.SIGTERM, handler)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    return restore
