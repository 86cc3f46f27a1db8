"""A real argon2 hasher whose threads wait at a gate: a test decides when hashing may go on,
so that it can fill the hashing queue without racing it."""

from __future__ import annotations

import asyncio
import threading

from adapters.argon2.hasher import Argon2PasswordHasher

# argon2 at a thousandth of its cost: the same code path, for tests.
CHEAP = {"time_cost": 1, "memory_cost_kib": 8, "parallelism": 1}


class GatedHasher(Argon2PasswordHasher):
    def __init__(self, *, max_threads: int = 1, max_queue: int = 0) -> None:
        super().__init__(**CHEAP, max_threads=max_threads, max_queue=max_queue)
        self.gate = threading.Event()
        self.started = threading.Semaphore(0)

    def _hash(self, password: str) -> str:
        self._wait()
        return super()._hash(password)

    def _verify(self, hashed: str, password: str) -> bool:
        self._wait()
        return super()._verify(hashed, password)

    def _wait(self) -> None:
        self.started.release()
        if not self.gate.wait(timeout=30):
            raise TimeoutError("the test never opened the gate")

    def wait_started(self, count: int) -> None:
        """Block until ``count`` more hashes have reached a thread."""
        for _ in range(count):
            if not self.started.acquire(timeout=10):
                raise TimeoutError("hashing never started")


class CountingHasher(Argon2PasswordHasher):
    """Cheap parameters, and a count of the passwords checked."""

    def __init__(self, *, max_threads: int = 2, max_queue: int = 1000) -> None:
        super().__init__(**CHEAP, max_threads=max_threads, max_queue=max_queue)
        self.verified = 0

    def _verify(self, hashed: str, password: str) -> bool:
        self.verified += 1  # one thread at a time per call; the GIL keeps the count
        return super()._verify(hashed, password)


class PausingHasher:
    """A real hasher whose next verification, once done, waits on the event loop for a
    signal: a login held between checking the password and storing its session, while
    other requests (which hash too) go on."""

    def __init__(self) -> None:
        self._inner = Argon2PasswordHasher.for_tests()
        self._armed = False
        self.verified = asyncio.Event()
        self.release = asyncio.Event()

    def arm(self) -> None:
        self._armed, self.verified, self.release = True, asyncio.Event(), asyncio.Event()

    async def hash(self, password: str) -> str:
        return await self._inner.hash(password)

    async def verify(self, hashed: str, password: str) -> bool:
        matched = await self._inner.verify(hashed, password)
        if self._armed:
            self._armed = False
            self.verified.set()
            await self.release.wait()
        return matched

    def needs_rehash(self, hashed: str) -> bool:
        return self._inner.needs_rehash(hashed)

    def close(self) -> None:
        self._inner.close()
