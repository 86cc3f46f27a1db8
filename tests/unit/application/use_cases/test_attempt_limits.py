"""Registrations per address and reset and verification mails per account: counted first,
atomically, so bursts get no more than the limit."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from adapters.memory.store import InMemoryStore
from adapters.ratelimit.memory import InMemoryRateLimiter
from application.use_cases.accounts.register_user import RegisterUserCommand
from application.use_cases.mail.request_password_reset import RequestPasswordResetCommand
from application.use_cases.mail.resend_verification import ResendVerificationCommand
from domain.errors import TooManyAttempts, WeakPassword
from domain.one_time_token import TokenPurpose
from domain.user import User
from entrypoints.container import Container
from entrypoints.settings import Settings
from tests.support.accounts import PASSWORD
from tests.support.clock import FixedClock
from tests.support.jobs import run_due_jobs

TRIALS = 5


@pytest.fixture
def settings() -> Settings:
    return Settings(
        _env_file=None,
        environment="test",
        database_url="sqlite+aiosqlite:///:memory:",
        jwt_secret="unit-test-secret-" + "x" * 32,
        registration_rate_limit="3/hour",
    )


async def register(container: Container, email: str, address: str = "10.0.0.1") -> str:
    command = RegisterUserCommand(email=email, password=PASSWORD, client_address=address)
    try:
        await container.register_user().execute(command)
    except TooManyAttempts as exc:
        return f"throttled {exc.retry_after}"
    return "registered"


async def test_registrations_are_limited_per_address(
    container: Container, clock: FixedClock
) -> None:
    for n in range(3):
        assert await register(container, f"u{n}@example.com") == "registered"
    assert await register(container, "u3@example.com") == "throttled 3600"
    assert await register(container, "u3@example.com", address="10.0.0.2") == "registered"
    clock.advance(timedelta(hours=1))
    assert await register(container, "u4@example.com") == "registered"


async def test_invalid_input_is_not_counted(container: Container) -> None:
    for _ in range(5):
        with pytest.raises(WeakPassword):
            await container.register_user().execute(
                RegisterUserCommand("u@example.com", "short", client_address="10.0.0.1")
            )
    assert await register(container, "u@example.com") == "registered"


async def test_a_burst_of_registrations_from_one_address_creates_no_more_than_the_limit(
    container: Container, store: InMemoryStore
) -> None:
    for trial in range(TRIALS):
        outcomes = await asyncio.gather(
            *(
                register(container, f"t{trial}-{n}@example.com", f"10.1.0.{trial}")
                for n in range(20)
            )
        )
        assert outcomes.count("registered") == 3
    assert len(store.users) == 3 * TRIALS


async def run_jobs(container: Container) -> None:
    await run_due_jobs(container)


def tokens(store: InMemoryStore, email: str, purpose: TokenPurpose) -> int:
    return sum(
        1 for t in store.one_time_tokens.values() if t.email == email and t.purpose is purpose
    )


async def test_a_burst_of_reset_requests_mails_at_most_three(
    container: Container, store: InMemoryStore
) -> None:
    for trial in range(TRIALS):
        email = f"reset-{trial}@example.com"
        await register(container, email, f"10.2.0.{trial}")
        await asyncio.gather(
            *(
                container.request_password_reset().execute(RequestPasswordResetCommand(email))
                for _ in range(20)
            )
        )
        await run_jobs(container)
        assert tokens(store, email, TokenPurpose.PASSWORD_RESET) == 3


async def test_unknown_addresses_are_counted_the_same(
    container: Container, store: InMemoryStore
) -> None:
    """The request does the same work either way: it counts, records, never looks up."""
    for _ in range(5):
        await container.request_password_reset().execute(
            RequestPasswordResetCommand("nobody@example.com")
        )
    assert len(store.outbox) == 3


async def test_a_burst_of_resends_mails_at_most_three_an_hour(
    container: Container, store: InMemoryStore
) -> None:
    for trial in range(TRIALS):
        email = f"verify-{trial}@example.com"
        await register(container, email, f"10.3.0.{trial}")
        await run_jobs(container)  # the registration's mail counts
        [user] = [u for u in store.users.values() if str(u.email) == email]

        async def resend(user: User = user) -> str:
            try:
                await container.resend_verification().execute(ResendVerificationCommand(actor=user))
            except TooManyAttempts:
                return "throttled"
            return "sent"

        outcomes = await asyncio.gather(*(resend() for _ in range(20)))
        assert outcomes.count("sent") == 2
        await run_jobs(container)
        assert tokens(store, email, TokenPurpose.EMAIL_VERIFICATION) == 3


async def test_the_memory_limiter_window_starts_at_the_first_attempt() -> None:
    clock = FixedClock()
    limiter = InMemoryRateLimiter(limit=2, window_seconds=10, clock=clock)
    assert await limiter.hit("k") is None
    clock.advance(timedelta(seconds=4))
    assert await limiter.hit("k") is None
    assert await limiter.hit("k") == 6
    assert await limiter.hit("other") is None
    clock.advance(timedelta(seconds=6))
    assert await limiter.hit("k") is None
    await limiter.give_back("k")
    await limiter.give_back("k")  # never below zero
    assert [await limiter.hit("k") for _ in range(3)] == [None, None, 10]
    await limiter.reset("k")
    assert await limiter.hit("k") is None
