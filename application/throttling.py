"""Failed logins, counted before any password is checked."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from application.errors import HashingQueueFull, StorageUnavailable
from application.ports import RateLimiter
from domain.email import Email
from domain.errors import InvalidEmail, TooManyAttempts


@dataclass(frozen=True, slots=True)
class CountedAttempt:
    """The keys one attempt was counted under."""

    account_keys: tuple[str, ...]
    by_address: str | None


def account_key(raw_email: str) -> str:
    """The account a login names. Text that is not a valid email still counts, as given, so
    that probing with junk is throttled too."""
    try:
        return Email(raw_email).value
    except InvalidEmail:
        return raw_email.strip().casefold()[:320]


def address_key(address: str) -> str:
    """The address a limit counts: an IPv6 client by its /64, the block one subscriber
    usually holds whole and could otherwise rotate through."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        return str(ipaddress.ip_network((parsed, 64), strict=False))
    return str(parsed)


class LoginThrottle:
    """Password guesses are limited per account and per address-and-account pair (one limit,
    ``LOGIN_RATE_LIMIT``), and per address over all accounts (a higher one,
    ``LOGIN_ADDRESS_RATE_LIMIT``): so one client cannot lock out every account, and a
    developer's typos on localhost lock out only their own.

    Every attempt is counted first, atomically, and only then is the password checked: of
    any burst of concurrent guesses no more are checked than the limit allows. An attempt
    that turns out not to be a failure is uncounted afterwards: a success clears the
    account's and the pair's counts, and takes back its own count at the address (the
    address keeps counting the failures made from it, whoever logs in from there)."""

    def __init__(
        self, per_account: RateLimiter, per_address: RateLimiter, *, prefix: str = "login"
    ) -> None:
        """``prefix``: what is counted; the second factor's codes are counted apart from
        passwords (``mfa``), under the same limits."""
        self._per_account = per_account
        self._per_address = per_address
        self._prefix = prefix

    async def count(
        self, raw_email: str, address: str | None, *, per_address: bool = True
    ) -> CountedAttempt:
        """Count one attempt; ``TooManyAttempts`` (counted all the same at the keys it
        reached) when any of its limits is reached. ``per_address`` False counts only the
        account and the pair."""
        account = account_key(raw_email)
        account_keys = [f"{self._prefix}:account:{account}"]
        where = address_key(address) if address else None
        if where:
            account_keys.append(f"{self._prefix}:pair:{where}:{account}")
        by_address = f"{self._prefix}:address:{where}" if where and per_address else None
        # One key after the other, in one order, stopping at the first limit reached: so the
        # attempts that reach a key are those the keys before it let through, and a burst
        # gets exactly as many checks as the tightest limit allows. Counted in parallel, the
        # keys would each let through a different few, and fewer than that in all.
        hits = [(self._per_account, key) for key in account_keys]
        if by_address is not None:
            hits.append((self._per_address, by_address))
        for limiter, key in hits:
            wait = await limiter.hit(key)
            if wait is not None:
                raise TooManyAttempts(wait)
        return CountedAttempt(tuple(account_keys), by_address)

    async def succeeded(self, attempt: CountedAttempt) -> None:
        for key in attempt.account_keys:
            await self._per_account.reset(key)
        if attempt.by_address is not None:
            await self._per_address.give_back(attempt.by_address)

    async def not_checked(self, attempt: CountedAttempt) -> None:
        """The password was never checked (the service could not): uncount the attempt."""
        for key in attempt.account_keys:
            await self._per_account.give_back(key)
        if attempt.by_address is not None:
            await self._per_address.give_back(attempt.by_address)

    async def check(
        self,
        raw_email: str,
        address: str | None,
        verify: Callable[[], Awaitable[bool]],
        *,
        per_address: bool = True,
    ) -> bool:
        """Count the attempt, then ``verify`` the password; what it says, with the count
        settled accordingly."""
        attempt = await self.count(raw_email, address, per_address=per_address)
        try:
            matches = await verify()
        except (HashingQueueFull, StorageUnavailable):
            await self.not_checked(attempt)
            raise
        if matches:
            await self.succeeded(attempt)
        return matches
