from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from dependency_injector import providers

from adapters.argon2.hasher import Argon2PasswordHasher
from application.errors import HashingQueueFull
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.support.hashing import GatedHasher


@pytest.fixture
def hasher() -> Iterator[Argon2PasswordHasher]:
    hasher = Argon2PasswordHasher.for_tests()
    yield hasher
    hasher.close()


async def test_hash_is_argon2id_and_verifies(hasher: Argon2PasswordHasher) -> None:
    hashed = await hasher.hash("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert await hasher.verify(hashed, "correct horse battery")


async def test_the_same_password_hashes_differently(hasher: Argon2PasswordHasher) -> None:
    assert await hasher.hash("same password") != await hasher.hash("same password")


@pytest.mark.parametrize("attempt", ["wrong password", "", "correct horse batter"])
async def test_a_wrong_password_is_false(hasher: Argon2PasswordHasher, attempt: str) -> None:
    hashed = await hasher.hash("correct horse battery")
    assert not await hasher.verify(hashed, attempt)


@pytest.mark.parametrize("hashed", ["", "plain", "$argon2id$v=19$m=8,t=1,p=1$broken", "$2b$12$x"])
async def test_a_malformed_hash_never_verifies_and_needs_rehash(
    hasher: Argon2PasswordHasher, hashed: str
) -> None:
    assert not await hasher.verify(hashed, "anything")
    assert hasher.needs_rehash(hashed)


async def test_needs_rehash_follows_the_parameters(hasher: Argon2PasswordHasher) -> None:
    stronger = Argon2PasswordHasher(time_cost=2, memory_cost_kib=16, parallelism=1, max_threads=1)
    try:
        hashed = await hasher.hash("password one")
        assert not hasher.needs_rehash(hashed)
        assert stronger.needs_rehash(hashed)
        assert not stronger.needs_rehash(await stronger.hash("password one"))
    finally:
        stronger.close()


async def test_hashing_runs_in_the_bounded_pool_not_on_the_event_loop() -> None:
    seen: list[str] = []

    class Recording(Argon2PasswordHasher):
        def _verify(self, hashed: str, password: str) -> bool:
            seen.append(threading.current_thread().name)
            return super()._verify(hashed, password)

    hasher = Recording(time_cost=1, memory_cost_kib=8, parallelism=1, max_threads=1)
    try:
        await hasher.verify(await hasher.hash("password"), "password")
    finally:
        hasher.close()
    assert seen
    assert seen[0].startswith("argon2")
    assert seen[0] != threading.main_thread().name


def test_close_is_idempotent(hasher: Argon2PasswordHasher) -> None:
    hasher.close()
    hasher.close()


async def test_the_application_prepares_its_process_for_hashing_once_as_it_starts(
    settings: Settings, container: Container
) -> None:
    # The tuning is process-wide and shows only in a fresh process's memory (see
    # tests/process/test_hasher_memory.py): here, that the application takes the start-up
    # step, once, before it serves.
    steps: list[str] = []
    container.prepare_hashing.override(providers.Callable(lambda: steps.append("prepared")))
    app = create_app(settings.model_copy(update={"jobs_in_process": False}), container)
    async with app.router.lifespan_context(app):
        assert steps == ["prepared"]
    assert steps == ["prepared"]


async def test_a_full_queue_refuses_at_once_and_frees_its_slots() -> None:
    hasher = GatedHasher(max_threads=1, max_queue=2)
    try:
        running = [asyncio.ensure_future(hasher.hash(f"password {n}")) for n in range(3)]
        await asyncio.to_thread(hasher.wait_started, 1)  # one runs, two wait
        # The fourth is refused without waiting for a thread: every thread is held shut.
        with pytest.raises(HashingQueueFull):
            await hasher.verify("$argon2id$whatever", "password")
        assert not any(task.done() for task in running)
        hasher.gate.set()
        assert all(h.startswith("$argon2id$") for h in await asyncio.gather(*running))
        # Every slot came back: a full queue's worth of work is accepted again.
        assert len(await asyncio.gather(*(hasher.hash("again") for _ in range(3)))) == 3
    finally:
        hasher.gate.set()
        hasher.close()


async def test_a_cancelled_caller_keeps_its_slot_until_the_thread_is_done() -> None:
    hasher = GatedHasher(max_threads=1, max_queue=0)
    try:
        first = asyncio.ensure_future(hasher.hash("password one"))
        await asyncio.to_thread(hasher.wait_started, 1)
        first.cancel()
        # The thread still hashes for the request that went away: no room for another yet.
        with pytest.raises(HashingQueueFull):
            await hasher.hash("password two")
        hasher.gate.set()
        for _ in range(100):
            try:
                assert (await hasher.hash("password two")).startswith("$argon2id$")
                break
            except HashingQueueFull:
                await asyncio.sleep(0.01)
        else:
            raise AssertionError("the slot never came back")
    finally:
        hasher.gate.set()
        hasher.close()
