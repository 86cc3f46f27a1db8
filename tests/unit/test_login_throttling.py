"""Failed logins are limited per client address and per account."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.ratelimit.memory import InMemoryRateLimiter
from application.use_cases.login import LoginCommand
from application.use_cases.register_user import RegisterUserCommand
from domain.errors import AuthenticationFailed, TooManyAttempts
from entrypoints.container import Container
from tests.support.clock import FixedClock

PASSWORD = "correct horse battery"


@pytest.fixture
async def ada(container: Container) -> None:
    await container.register_user().execute(
        RegisterUserCommand(email="ada@example.com", password=PASSWORD)
    )


async def attempt(
    container: Container, password: str, email: str = "ada@example.com", address: str = "10.0.0.1"
) -> str:
    try:
        await container.login().execute(LoginCommand(email, password, address))
    except AuthenticationFailed:
        return "refused"
    except TooManyAttempts as exc:
        return f"throttled {exc.retry_after}"
    return "ok"


async def test_an_account_is_throttled_after_five_failures(
    container: Container, clock: FixedClock, ada: None
) -> None:
    for n in range(5):
        assert await attempt(container, "wrong password", address=f"10.0.0.{n}") == "refused"
    # Even the right password waits, from a fresh address: the account is throttled.
    assert await attempt(container, PASSWORD, address="10.9.9.9") == "throttled 60"
    clock.advance(timedelta(seconds=59))
    assert await attempt(container, PASSWORD, address="10.9.9.9") == "throttled 1"
    clock.advance(timedelta(seconds=1))
    assert await attempt(container, PASSWORD, address="10.9.9.9") == "ok"


async def test_an_address_is_throttled_across_accounts(container: Container, ada: None) -> None:
    for n in range(5):
        assert await attempt(container, "x" * 10, email=f"u{n}@example.com") == "refused"
    assert (await attempt(container, PASSWORD)).startswith("throttled")
    assert await attempt(container, PASSWORD, address="10.0.0.2") == "ok"


async def test_junk_usernames_count_too(container: Container) -> None:
    for _ in range(5):
        assert await attempt(container, "x" * 10, email="not an email") == "refused"
    assert (
        await attempt(container, "x" * 10, email="not an email", address="10.1.1.1")
    ).startswith("throttled")


async def test_a_success_clears_the_account_count(container: Container, ada: None) -> None:
    for n in range(4):
        await attempt(container, "wrong password", address=f"10.0.1.{n}")
    assert await attempt(container, PASSWORD, address="10.0.2.1") == "ok"
    for n in range(4):
        assert await attempt(container, "wrong password", address=f"10.0.3.{n}") == "refused"
    assert await attempt(container, PASSWORD, address="10.0.4.1") == "ok"


async def test_the_limiter_window() -> None:
    clock = FixedClock()
    limiter = InMemoryRateLimiter(limit=2, window_seconds=10, clock=clock)
    assert await limiter.retry_after("k") is None
    await limiter.record_failure("k")
    assert await limiter.retry_after("k") is None
    clock.advance(timedelta(seconds=4))
    await limiter.record_failure("k")
    assert await limiter.retry_after("k") == 6
    assert await limiter.retry_after("other") is None
    clock.advance(timedelta(seconds=6))
    assert await limiter.retry_after("k") is None
    await limiter.record_failure("k")
    await limiter.record_failure("k")
    await limiter.reset("k")
    assert await limiter.retry_after("k") is None
