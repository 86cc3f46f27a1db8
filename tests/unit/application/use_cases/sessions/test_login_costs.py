"""Login costs one hash whatever the failure, and hashing never holds the event loop."""

from __future__ import annotations

import asyncio

import pytest
from dependency_injector import providers

from adapters.argon2.hasher import Argon2PasswordHasher
from application.use_cases.accounts.register_user import RegisterUserCommand
from application.use_cases.sessions.login import LoginCommand
from domain.errors import AuthenticationFailed
from entrypoints.container import Container


class CountingHasher(Argon2PasswordHasher):
    verified = 0

    async def verify(self, hashed: str, password: str) -> bool:
        CountingHasher.verified += 1
        return await super().verify(hashed, password)


@pytest.mark.parametrize(
    ("email", "password"),
    [("ada@example.com", "wrong password"), ("nobody@example.com", "wrong password")],
    ids=["wrong-password", "unknown-email"],
)
async def test_every_failure_costs_exactly_one_verification(
    container: Container, email: str, password: str
) -> None:
    hasher = CountingHasher(time_cost=1, memory_cost_kib=8, parallelism=1, max_threads=1)
    container.password_hasher.override(providers.Object(hasher))
    try:
        await container.register_user().execute(
            RegisterUserCommand(email="ada@example.com", password="correct horse battery")
        )
        CountingHasher.verified = 0
        with pytest.raises(AuthenticationFailed):
            await container.login().execute(LoginCommand(email, password))
        assert CountingHasher.verified == 1
    finally:
        hasher.close()


async def test_a_flood_of_hashes_leaves_the_event_loop_free() -> None:
    # Real OWASP-minimum parameters, one hashing thread: eight hashes queue in the pool.
    hasher = Argon2PasswordHasher(time_cost=2, memory_cost_kib=19_456, parallelism=1, max_threads=1)
    finished: list[str] = []
    try:

        async def flood() -> None:
            await asyncio.gather(*(hasher.hash(f"password {n}") for n in range(8)))
            finished.append("flood")

        async def other_request() -> None:
            await asyncio.sleep(0.005)
            finished.append("other request")

        await asyncio.gather(flood(), other_request())
    finally:
        hasher.close()
    # Had hashing run on the loop, the short request could only finish after the flood.
    assert finished == ["other request", "flood"]
