"""argon2id password hashing, off the event loop.

argon2 is CPU-bound by design. Hashing runs in a small thread pool of its own, bounded so that
a flood of logins queues there instead of taking every core from the event loop. The queue is
bounded too: a hash asked for when every thread is busy and ``max_queue`` hashes already
wait is refused at once (``HashingQueueFull``), so that a flood gets quick refusals instead of
every caller, a legitimate login among them, waiting behind it for seconds.

It is memory-bound by design too: every hash takes its memory cost (19 MiB and up) from
``malloc`` and frees it at the end. glibc keeps such a freed block in the hashing thread's
own heap, some 20 MB per hashing thread for the life of the process. On glibc the hashing
threads therefore share the main heap (one malloc arena: ``prepare_process_for_hashing``, a
start-up step of the process) and trim it after each hash, which gives the block back;
trimming costs microseconds against a hash's tens of milliseconds.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

from application.errors import HashingQueueFull

T = TypeVar("T")


def prepare_process_for_hashing() -> None:
    """Start-up step of a process that hashes passwords (each ``keel serve`` worker, from the
    application's lifespan): call it once, before the process starts threads.

    Process-wide malloc tuning, on glibc: every thread started from then on allocates from the
    main heap (``M_ARENA_MAX`` = 1), which the trim after each hash gives back to the system;
    a thread's own heap it cannot. Without it hashing still works, but each hashing thread
    may keep a hash's memory (19 MiB and up) for good. Elsewhere it does nothing."""
    _LIBC.share_one_heap()


class Argon2PasswordHasher:
    def __init__(
        self,
        *,
        time_cost: int,
        memory_cost_kib: int,
        parallelism: int,
        max_threads: int,
        max_queue: int = 16,
    ) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost_kib,
            parallelism=parallelism,
            type=argon2.Type.ID,
        )
        self._executor = ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix="argon2")
        # A slot per hash running or waiting; given back when the thread is done with it,
        # not when its caller stops waiting (a cancelled request's hash may still run).
        self._slots = threading.BoundedSemaphore(max_threads + max_queue)
        self._closed = False

    @classmethod
    def for_tests(cls) -> Argon2PasswordHasher:
        """Cheap parameters: the same code path, a thousandth of the cost."""
        return cls(time_cost=1, memory_cost_kib=8, parallelism=1, max_threads=2)

    async def hash(self, password: str) -> str:
        return await self._run(self._hash, password)

    async def verify(self, hashed: str, password: str) -> bool:
        return await self._run(self._verify, hashed, password)

    async def _run(self, work: Callable[..., T], *args: str) -> T:
        if not self._slots.acquire(blocking=False):
            raise HashingQueueFull()
        try:
            future: Future[T] = self._executor.submit(work, *args)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _: self._slots.release())
        return await asyncio.wrap_future(future)

    def needs_rehash(self, hashed: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(hashed)
        except (InvalidHashError, ValueError):
            return True

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._executor.shutdown(wait=False, cancel_futures=True)

    def _hash(self, password: str) -> str:
        try:
            return self._hasher.hash(password)
        finally:
            _LIBC.trim()

    def _verify(self, hashed: str, password: str) -> bool:
        try:
            return self._hasher.verify(hashed, password)
        except (VerificationError, InvalidHashError, ValueError):
            return False
        finally:
            _LIBC.trim()


class _Glibc:
    """The two glibc calls above, or nothing where the C library is not glibc."""

    _M_ARENA_MAX = -8

    def __init__(self) -> None:
        self._mallopt: Callable[[int, int], int] | None = None
        self._malloc_trim: Callable[[int], int] | None = None
        name = ctypes.util.find_library("c") if sys.platform.startswith("linux") else None
        if name is None:
            return
        try:
            libc = ctypes.CDLL(name)
            mallopt, malloc_trim = libc.mallopt, libc.malloc_trim
        except (OSError, AttributeError):
            return
        mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
        malloc_trim.argtypes, malloc_trim.restype = [ctypes.c_size_t], ctypes.c_int
        self._mallopt, self._malloc_trim = mallopt, malloc_trim

    def share_one_heap(self) -> None:
        """Threads started from now on use the main heap, which ``trim`` can give back; a
        thread's own heap it cannot. Best done before the process starts any thread."""
        if self._mallopt is not None:
            self._mallopt(self._M_ARENA_MAX, 1)

    def trim(self) -> None:
        if self._malloc_trim is not None:
            self._malloc_trim(0)


_LIBC = _Glibc()
