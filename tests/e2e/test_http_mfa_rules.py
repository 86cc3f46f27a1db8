"""The second factor's rules on a real database: required by role, recorded in the trail
without a secret, throttled like login (also through Redis), and single use under
concurrent requests (PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from entrypoints.logs import configure_logging
from tests.e2e.http_support import PASSWORD, assert_envelope, bearer, register
from tests.e2e.mfa_support import MFA, mfa_world
from tests.support.sql import rows

TRIALS = 8


async def test_a_role_that_requires_mfa_is_led_to_set_it_up_first(database_url: str) -> None:
    async with mfa_world(database_url, mfa_required_roles="user") as world:
        client = world.client
        await register(client, "ada@example.com")
        challenge = await world.login("ada@example.com")
        assert challenge["mfa_required"] is True
        assert challenge["setup_required"] is True
        token = challenge["mfa_token"]
        # Good for set-up and confirm only.
        assert_envelope(
            await client.get("/api/v1/users/me", headers=bearer(token)), 401, "UNAUTHORIZED"
        )
        assert_envelope(await world.verify(token, "123456"), 401, "UNAUTHORIZED")
        setup = await client.post(f"{MFA}/totp/setup", headers=bearer(token))
        assert setup.status_code == 200, setup.text
        secret = setup.json()["secret"]
        confirmed = await client.post(
            f"{MFA}/totp/confirm", json={"code": world.code(secret)}, headers=bearer(token)
        )
        assert confirmed.status_code == 200, confirmed.text
        body = confirmed.json()
        assert len(body["recovery_codes"]) == 10
        access = body["tokens"]["access_token"]
        assert (await client.get("/api/v1/users/me", headers=bearer(access))).status_code == 200
        # The set-up token is spent; the next login asks for a code.
        again = await client.post(f"{MFA}/totp/setup", headers=bearer(token))
        assert_envelope(again, 401, "UNAUTHORIZED")
        world.next_step()
        next_login = await world.login("ada@example.com")
        assert next_login["setup_required"] is False
        assert (await world.verify(next_login["mfa_token"], world.code(secret))).status_code == 200
        # A role that requires it cannot turn it off.
        world.next_step()
        off = await client.post(
            f"{MFA}/totp/disable",
            json={"password": PASSWORD, "code": world.code(secret)},
            headers=bearer(access),
        )
        assert_envelope(off, 403, "FORBIDDEN")


async def test_each_event_once_and_no_secret_in_the_trail_or_the_logs(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("DEBUG", "json")
    async with mfa_world(database_url) as world:
        client = world.client
        capsys.readouterr()
        token, secret, codes = await world.user_with_totp("ada@example.com")
        challenge = await world.login("ada@example.com")
        assert (await world.verify(challenge["mfa_token"], "000000")).status_code == 401
        assert (await world.verify(challenge["mfa_token"], codes[0])).status_code == 200
        renewed = await client.post(
            f"{MFA}/recovery-codes", json={"code": world.code(secret)}, headers=bearer(token)
        )
        new_codes = renewed.json()["recovery_codes"]
        off = await client.post(
            f"{MFA}/totp/disable",
            json={"password": PASSWORD, "code": new_codes[0]},
            headers=bearer(token),
        )
        assert off.status_code == 204
        logs = capsys.readouterr().err
        url = world.app.state.settings.database_url
        found = await rows(url, "SELECT type, details FROM security_events ORDER BY at, id")
    # Each once (the clock stands still, so they are compared as a set of kinds).
    types = sorted(t for t, _ in found if t.startswith("mfa."))
    assert types == sorted(
        [
            "mfa.setup_started",
            "mfa.enabled",
            "mfa.failed",
            "mfa.recovery_code_used",
            "mfa.recovery_codes_renewed",
            "mfa.disabled",
        ]
    )
    assert [json.loads(d) for t, d in found if t == "mfa.recovery_code_used"] == [{"remaining": 9}]
    trail = json.dumps(found)
    for secret_text in [secret, challenge["mfa_token"], *codes, *new_codes]:
        assert secret_text not in trail
        assert secret_text not in logs
        assert secret_text.replace("-", "") not in trail


@pytest.mark.parametrize("store", ["memory", "redis"])
async def test_verify_is_throttled_like_login_counted_before_the_check(
    database_url: str, store: str, request: pytest.FixtureRequest
) -> None:
    redis = {"redis_url": request.getfixturevalue("redis_url")} if store == "redis" else {}
    async with mfa_world(database_url, login_rate_limit="3/minute", **redis) as world:
        _, secret, _ = await world.user_with_totp("ada@example.com")
        mfa_token = (await world.login("ada@example.com"))["mfa_token"]
        for _ in range(3):
            assert (await world.verify(mfa_token, "000000")).status_code == 401
        # At the limit even the right code is refused, before it is checked.
        limited = await world.verify(mfa_token, world.code(secret))
        error = assert_envelope(limited, 429, "RATE_LIMITED")
        assert int(limited.headers["retry-after"]) == error["details"]["retry_after"] > 0
        url = world.app.state.settings.database_url
        kinds = [t for (t,) in await rows(url, "SELECT type FROM security_events")]
        assert kinds.count("mfa.failed") == 3
        assert kinds.count("mfa.throttled") == 1
        if store == "redis":
            return  # Redis keeps its own time: the window's end is not the test's to move
        world.clock.advance(timedelta(minutes=2))
        late = await world.login("ada@example.com")
        assert (await world.verify(late["mfa_token"], world.code(secret))).status_code == 200


async def test_concurrent_uses_of_one_code_or_token_let_exactly_one_through(
    postgres_url: str,
) -> None:
    # The clock moves some two minutes a trial: the access token must outlast them.
    limits = {"login_rate_limit": "1000/minute", "access_token_expire_minutes": 60}
    async with mfa_world(postgres_url, **limits) as world:
        access, secret, _ = await world.user_with_totp("ada@example.com")
        for trial in range(TRIALS):
            world.next_step()
            renewed = await world.client.post(
                f"{MFA}/recovery-codes", json={"code": world.code(secret)}, headers=bearer(access)
            )
            codes = renewed.json()["recovery_codes"]
            world.next_step()
            # One recovery code, two requests with two tokens.
            tokens = [(await world.login("ada@example.com"))["mfa_token"] for _ in range(2)]
            code = codes[0]
            answers = await asyncio.gather(*(world.verify(t, code) for t in tokens))
            assert sorted(a.status_code for a in answers) == [200, 401], trial
            # One TOTP code, two tokens.
            world.next_step()
            tokens = [(await world.login("ada@example.com"))["mfa_token"] for _ in range(2)]
            code = world.code(secret)
            answers = await asyncio.gather(*(world.verify(t, code) for t in tokens))
            assert sorted(a.status_code for a in answers) == [200, 401], trial
            # One token, two requests with two good codes (a TOTP and a recovery code).
            world.next_step()
            token = (await world.login("ada@example.com"))["mfa_token"]
            pair = [world.verify(token, world.code(secret)), world.verify(token, codes[1])]
            answers = await asyncio.gather(*pair)
            assert sorted(a.status_code for a in answers) == [200, 401], trial
        url = world.app.state.settings.database_url
        sessions = await rows(url, "SELECT count(*) FROM refresh_sessions")
        # One login for setting up, three per trial.
        assert sessions == [(1 + 3 * TRIALS,)]


async def test_concurrent_confirms_turn_it_on_once_with_one_set_of_codes(
    postgres_url: str,
) -> None:
    async with mfa_world(postgres_url, login_rate_limit="1000/minute") as world:
        client = world.client
        for trial in range(TRIALS):
            email = f"user{trial}@example.com"
            await register(client, email)
            token = (await world.login(email))["access_token"]
            setup = await client.post(f"{MFA}/totp/setup", headers=bearer(token))
            body = {"code": world.code(setup.json()["secret"])}
            answers = await asyncio.gather(
                *(
                    client.post(f"{MFA}/totp/confirm", json=body, headers=bearer(token))
                    for _ in range(2)
                )
            )
            assert sorted(a.status_code for a in answers) == [200, 409], trial
            [winner] = [a for a in answers if a.status_code == 200]
            url = world.app.state.settings.database_url
            stored = await rows(
                url,
                "SELECT count(*) FROM recovery_codes r JOIN users u ON u.id = r.user_id"
                " WHERE u.email = :email",
                email=email,
            )
            assert stored == [(10,)], trial
            assert len(winner.json()["recovery_codes"]) == 10
