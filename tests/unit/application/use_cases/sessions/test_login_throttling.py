"""Password guesses are counted before they are checked: per account, per address and
account, and per address over all accounts; a wrong current password counts like a login."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from datetime import timedelta

import pytest
from dependency_injector import providers

from adapters.ratelimit.memory import InMemoryRateLimiter
from application.changes import UserChanges
from application.errors import HashingQueueFull
from application.throttling import LoginThrottle
from application.use_cases.accounts.register_user import RegisterUserCommand
from application.use_cases.accounts.update_user import UpdateUserCommand
from application.use_cases.sessions.login import LoginCommand
from domain.errors import AuthenticationFailed, TooManyAttempts, WrongCurrentPassword
from domain.user import User
from entrypoints.container import Container
from entrypoints.settings import Settings
from tests.support.accounts import PASSWORD
from tests.support.clock import FixedClock
from tests.support.hashing import CountingHasher, GatedHasher

NEW_PASSWORD = "a long and quiet river"
TRIALS = 5


@pytest.fixture
def settings() -> Settings:
    return Settings(
        _env_file=None,
        environment="test",
        database_url="sqlite+aiosqlite:///:memory:",
        jwt_secret="unit-test-secret-" + "x" * 32,
        login_rate_limit="5/minute",
        login_address_rate_limit="10/minute",
    )


@pytest.fixture
async def ada(container: Container) -> User:
    return await container.register_user().execute(
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
    container: Container, clock: FixedClock, ada: User
) -> None:
    for n in range(5):
        assert await attempt(container, "wrong password", address=f"10.0.0.{n}") == "refused"
    # Even the right password waits, from a fresh address: the account is throttled.
    assert await attempt(container, PASSWORD, address="10.9.9.9") == "throttled 60"
    clock.advance(timedelta(seconds=59))
    assert await attempt(container, PASSWORD, address="10.9.9.9") == "throttled 1"
    clock.advance(timedelta(seconds=1))
    assert await attempt(container, PASSWORD, address="10.9.9.9") == "ok"


@pytest.fixture
def counting(container: Container) -> Iterator[CountingHasher]:
    hasher = CountingHasher()
    container.password_hasher.override(providers.Object(hasher))
    yield hasher
    hasher.close()


async def test_a_burst_of_concurrent_guesses_checks_no_more_than_the_limit(
    container: Container, ada: User, counting: CountingHasher
) -> None:
    """Counted before the hash: 40 guesses released at once get five checks."""
    for trial in range(TRIALS):
        checked = counting.verified
        outcomes = await asyncio.gather(
            *(attempt(container, f"guess {n}", address=f"10.{trial}.0.{n}") for n in range(40))
        )
        assert outcomes.count("refused") == 5, outcomes
        assert sum(o.startswith("throttled") for o in outcomes) == 35
        assert counting.verified - checked == 5
        await container.login_account_limiter().reset("login:account:ada@example.com")


async def test_one_address_cannot_lock_out_every_account(container: Container, ada: User) -> None:
    # Typos on five accounts from one address lock none of the others out...
    for n in range(5):
        assert await attempt(container, "x" * 10, email=f"u{n}@example.com") == "refused"
    assert await attempt(container, PASSWORD) == "ok"
    # ...but the address has a ceiling of its own over all accounts (10 here).
    for n in range(5, 15):
        await attempt(container, "x" * 10, email=f"u{n}@example.com")
    assert (await attempt(container, PASSWORD)).startswith("throttled")
    assert await attempt(container, PASSWORD, address="10.0.0.2") == "ok"


async def test_a_success_elsewhere_does_not_reset_the_guessers_pair(
    container: Container, ada: User
) -> None:
    for _ in range(4):
        assert await attempt(container, "wrong password", address="10.6.6.6") == "refused"
    assert await attempt(container, PASSWORD, address="10.0.0.7") == "ok"  # clears the account
    assert await attempt(container, "wrong password", address="10.6.6.6") == "refused"
    assert (await attempt(container, "wrong password", address="10.6.6.6")).startswith("throttled")
    assert await attempt(container, PASSWORD, address="10.0.0.7") == "ok"


async def test_a_success_clears_the_account_count(container: Container, ada: User) -> None:
    for n in range(4):
        await attempt(container, "wrong password", address=f"10.0.1.{n}")
    assert await attempt(container, PASSWORD, address="10.0.2.1") == "ok"
    for n in range(4):
        assert await attempt(container, "wrong password", address=f"10.0.3.{n}") == "refused"
    assert await attempt(container, PASSWORD, address="10.0.4.1") == "ok"


async def test_a_success_takes_back_only_its_own_count_at_the_address(
    container: Container, ada: User
) -> None:
    for n in range(9):
        assert await attempt(container, "x" * 10, email=f"u{n}@example.com") == "refused"
    for _ in range(3):
        assert await attempt(container, PASSWORD) == "ok"  # counted, then taken back
    assert await attempt(container, "x" * 10, email="u9@example.com") == "refused"  # the 10th
    assert (await attempt(container, "x" * 10, email="u10@example.com")).startswith("throttled")


async def test_junk_usernames_count_too(container: Container) -> None:
    for n in range(5):
        assert await attempt(container, "x" * 10, email="not an email", address=f"10.2.{n}.1") == (
            "refused"
        )
    assert (
        await attempt(container, "x" * 10, email="not an email", address="10.1.1.1")
    ).startswith("throttled")


async def test_attempts_refused_by_a_full_hashing_queue_are_not_counted(
    container: Container, ada: User
) -> None:
    hasher = GatedHasher(max_threads=1, max_queue=0)
    container.password_hasher.override(providers.Object(hasher))
    try:
        held = asyncio.ensure_future(attempt(container, "wrong password", address="10.3.0.1"))
        await asyncio.to_thread(hasher.wait_started, 1)
        for n in range(10):
            with pytest.raises(HashingQueueFull):
                await container.login().execute(
                    LoginCommand("ada@example.com", "wrong password", f"10.3.1.{n}")
                )
        hasher.gate.set()
        assert await held == "refused"
        # One failure counted so far, not eleven: four more are checked.
        for n in range(4):
            assert await attempt(container, "wrong password", address=f"10.3.2.{n}") == "refused"
        assert (await attempt(container, PASSWORD, address="10.3.3.1")).startswith("throttled")
    finally:
        hasher.gate.set()
        hasher.close()


async def change_password(container: Container, user: User, current: str) -> str:
    changes = UserChanges(password=NEW_PASSWORD, current_password=current)
    try:
        await container.update_user().execute(
            UpdateUserCommand(
                actor=user, user_id=user.id, changes=changes, client_address="10.4.0.1"
            )
        )
    except WrongCurrentPassword:
        return "wrong"
    except TooManyAttempts:
        return "throttled"
    return "changed"


async def test_a_wrong_current_password_counts_as_a_failed_login(
    container: Container, ada: User
) -> None:
    for n in range(3):
        assert await change_password(container, ada, f"guess {n}") == "wrong"
    for n in range(2):
        assert await attempt(container, "wrong password", address=f"10.5.0.{n}") == "refused"
    assert await change_password(container, ada, PASSWORD) == "throttled"
    assert (await attempt(container, PASSWORD)).startswith("throttled")


async def test_concurrent_current_password_guesses_get_no_more_than_the_limit(
    container: Container, ada: User, counting: CountingHasher
) -> None:
    outcomes = await asyncio.gather(
        *(change_password(container, ada, f"guess {n}") for n in range(20))
    )
    assert outcomes.count("wrong") == 5
    assert outcomes.count("throttled") == 15
    assert counting.verified == 5


async def test_the_right_current_password_clears_the_count(container: Container, ada: User) -> None:
    for n in range(4):
        assert await change_password(container, ada, f"guess {n}") == "wrong"
    assert await change_password(container, ada, PASSWORD) == "changed"
    assert await attempt(container, NEW_PASSWORD) == "ok"


class DelayedLimiter:
    """A shared store reached over a network: each count is atomic, but arrives after a
    delay of its own, so concurrent attempts reach the keys in different orders."""

    def __init__(self, inner: InMemoryRateLimiter, seed: int) -> None:
        self._inner = inner
        self._random = random.Random(seed)

    async def hit(self, key: str) -> int | None:
        await asyncio.sleep(self._random.random() / 1000)
        return await self._inner.hit(key)

    async def give_back(self, key: str) -> None:
        await self._inner.give_back(key)

    async def reset(self, key: str) -> None:
        await self._inner.reset(key)


async def test_a_burst_over_a_store_with_delays_gets_exactly_the_limit() -> None:
    """Each attempt is counted under the account, the pair and the address. However the
    counts of concurrent attempts interleave, the burst gets as many checks as the limit:
    no more, and no fewer (which would refuse a right password that should pass)."""
    clock = FixedClock()
    for seed in range(TRIALS * 4):
        per_account = InMemoryRateLimiter(limit=5, window_seconds=60, clock=clock)
        per_address = InMemoryRateLimiter(limit=50, window_seconds=60, clock=clock)
        throttle = LoginThrottle(
            DelayedLimiter(per_account, seed), DelayedLimiter(per_address, seed)
        )

        async def one(throttle: LoginThrottle) -> bool:
            try:
                await throttle.count("ada@example.com", "10.0.0.1")
            except TooManyAttempts:
                return False
            return True

        admitted = await asyncio.gather(*(one(throttle) for _ in range(20)))
        assert admitted.count(True) == 5, (seed, admitted)
