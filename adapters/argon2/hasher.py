"""argon2id password hashing, off the event loop.

argon2 is CPU-bound by design. Hashing runs in a small thread pool of its own, bounded so that
a flood of logins queues there instead of taking every core from the event loop.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import argon2
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2PasswordHasher:
    def __init__(
        self, *, time_cost: int, memory_cost_kib: int, parallelism: int, max_threads: int
    ) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost_kib,
            parallelism=parallelism,
            type=argon2.Type.ID,
        )
        self._executor = ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix="argon2")
        self._closed = False

    @classmethod
    def for_tests(cls) -> Argon2PasswordHasher:
        """Cheap parameters: the same code path, a thousandth of the cost."""
        return cls(time_cost=1, memory_cost_kib=8, parallelism=1, max_threads=2)

    async def hash(self, password: str) -> str:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._hasher.hash, password)

    async def verify(self, hashed: str, password: str) -> bool:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._verify, hashed, password)

    def needs_rehash(self, hashed: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(hashed)
        except (InvalidHashError, ValueError):
            return True

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._executor.shutdown(wait=False, cancel_futures=True)

    def _verify(self, hashed: str, password: str) -> bool:
        try:
            return self._hasher.verify(hashed, password)
        except (VerificationError, InvalidHashError, ValueError):
            return False
