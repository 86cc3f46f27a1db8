"""The second factor over the memory adapters, with a frozen clock: codes are computed from
the secret at the times the tests choose."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest

from adapters.memory.store import InMemoryStore
from application.use_cases.mfa.challenge import MfaChallenge
from application.use_cases.mfa.confirm_totp import ConfirmTotpCommand
from application.use_cases.mfa.setup_totp import SetupTotpCommand
from application.use_cases.mfa.verify_mfa import VerifyMfaCommand
from application.use_cases.sessions.login import LoginCommand, TokenPair
from domain.errors import AuthenticationFailed
from domain.mfa import InvalidCode, SecondFactorAlreadyOn, recovery_code_digest
from domain.user import User
from entrypoints.container import Container
from tests.support.accounts import PASSWORD, register
from tests.support.clock import FixedClock

STEP = timedelta(seconds=30)


def code(secret: str, clock: FixedClock, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock.now() + steps * STEP)


async def turned_on(container: Container, clock: FixedClock) -> tuple[User, str, list[str]]:
    user = await register(container)
    setup = await container.setup_totp().execute(SetupTotpCommand(user))
    confirmed = await container.confirm_totp().execute(
        ConfirmTotpCommand(code=code(setup.secret, clock), user=user)
    )
    clock.advance(STEP)
    return user, setup.secret, confirmed.recovery_codes


async def challenge(container: Container) -> str:
    answer = await container.login().execute(LoginCommand("ada@example.com", PASSWORD))
    assert isinstance(answer, MfaChallenge)
    return answer.mfa_token


async def verify(container: Container, token: str, given: str) -> TokenPair:
    return await container.verify_mfa().execute(VerifyMfaCommand(token, given))


async def test_setup_shows_the_secret_once_and_stores_it_encrypted(
    container: Container, clock: FixedClock
) -> None:
    user = await register(container)
    setup = await container.setup_totp().execute(SetupTotpCommand(user))
    assert setup.otpauth_uri.startswith("otpauth://totp/Keel:ada%40example.com?secret=")
    assert setup.qr_svg.startswith("<svg")
    stored = container.unit_of_work()
    async with stored as uow:
        credential = await uow.second_factor.get(user.id)
    assert credential is not None
    assert not credential.is_on
    assert setup.secret not in credential.secret_ciphertext
    assert container.secret_cipher().decrypt(credential.secret_ciphertext) == setup.secret
    # Pending: login is unchanged until confirmed.
    pair = await container.login().execute(LoginCommand("ada@example.com", PASSWORD))
    assert isinstance(pair, TokenPair)


async def test_confirm_needs_a_code_of_the_pending_secret(
    container: Container, clock: FixedClock
) -> None:
    user = await register(container)
    setup = await container.setup_totp().execute(SetupTotpCommand(user))
    with pytest.raises(InvalidCode):
        await container.confirm_totp().execute(ConfirmTotpCommand(code="000000", user=user))
    done = await container.confirm_totp().execute(
        ConfirmTotpCommand(code=code(setup.secret, clock), user=user)
    )
    assert len(done.recovery_codes) == 10
    assert done.tokens is None
    with pytest.raises(SecondFactorAlreadyOn):
        await container.setup_totp().execute(SetupTotpCommand(user))


async def test_drift_of_one_step_is_accepted_two_are_not(
    container: Container, clock: FixedClock
) -> None:
    _, secret, _ = await turned_on(container, clock)
    clock.advance(10 * STEP)
    token = await challenge(container)
    for steps in (-2, 2):
        with pytest.raises(AuthenticationFailed):
            await verify(container, token, code(secret, clock, steps))
    assert await verify(container, await challenge(container), code(secret, clock, -1))
    clock.advance(10 * STEP)
    assert await verify(container, await challenge(container), code(secret, clock, 1))


async def test_a_code_is_refused_at_or_before_the_last_accepted_step(
    container: Container, clock: FixedClock
) -> None:
    _, secret, _ = await turned_on(container, clock)
    given = code(secret, clock)
    assert await verify(container, await challenge(container), given)
    with pytest.raises(AuthenticationFailed):
        await verify(container, await challenge(container), given)
    # The step before is within the drift, but older than the one accepted.
    with pytest.raises(AuthenticationFailed):
        await verify(container, await challenge(container), code(secret, clock, -1))
    clock.advance(STEP)
    assert await verify(container, await challenge(container), code(secret, clock))


async def test_recovery_codes_are_stored_as_digests_and_work_once(
    container: Container, clock: FixedClock, store: InMemoryStore
) -> None:
    user, _, codes = await turned_on(container, clock)
    async with container.unit_of_work() as uow:
        left = await uow.second_factor.unused_recovery_codes(user.id)
    assert left == 10
    digests = {c.code_hash for c in store.recovery_codes.values()}
    assert digests == {recovery_code_digest(c) for c in codes}
    assert await verify(container, await challenge(container), codes[0])
    with pytest.raises(AuthenticationFailed):
        await verify(container, await challenge(container), codes[0])


async def test_the_mfa_token_expires_after_five_minutes(
    container: Container, clock: FixedClock
) -> None:
    _, secret, _ = await turned_on(container, clock)
    token = await challenge(container)
    clock.advance(timedelta(minutes=5))
    with pytest.raises(AuthenticationFailed):
        await verify(container, token, code(secret, clock))


@pytest.mark.parametrize("given", ["١٢٣٤٥٦", "12345", "1234567", "abcdef", "      ", "²³⁴⁵⁶⁷"])
async def test_anything_but_six_ascii_digits_is_a_wrong_code(
    container: Container, clock: FixedClock, given: str
) -> None:
    await turned_on(container, clock)
    with pytest.raises(AuthenticationFailed):
        await verify(container, await challenge(container), given)
