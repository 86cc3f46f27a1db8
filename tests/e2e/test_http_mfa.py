"""TOTP second factor over HTTP on a real database (SQLite and PostgreSQL), with codes
computed from the secret at times the tests choose."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from tests.e2e.http_support import PASSWORD, assert_envelope, bearer
from tests.e2e.mfa_support import MFA, MfaWorld, mfa_world
from tests.support.sql import rows


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[MfaWorld]:
    async with mfa_world(database_url) as world:
        yield world


async def test_the_whole_flow_set_up_confirm_log_in_and_turn_off(world: MfaWorld) -> None:
    client = world.client
    token, secret, codes = await world.user_with_totp("ada@example.com")
    assert len(codes) == 10
    assert len(set(codes)) == 10
    again = await client.post(f"{MFA}/totp/setup", headers=bearer(token))
    assert_envelope(again, 409, "CONFLICT")

    challenge = await world.login("ada@example.com")
    assert challenge["mfa_required"] is True
    assert challenge["expires_in"] == 300
    assert "access_token" not in challenge
    assert "refresh_token" not in challenge
    pair = await world.verify(challenge["mfa_token"], world.code(secret))
    assert pair.status_code == 200, pair.text
    me = await client.get("/api/v1/users/me", headers=bearer(pair.json()["access_token"]))
    assert me.status_code == 200
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair.json()["refresh_token"]}
    )
    assert refreshed.status_code == 200  # a session like a login's

    # Turning it off needs the password and a code.
    world.next_step()
    wrong_password = {"password": "not the password", "code": world.code(secret)}
    answer = await client.post(f"{MFA}/totp/disable", json=wrong_password, headers=bearer(token))
    assert assert_envelope(answer, 422, "VALIDATION_ERROR")["details"]["errors"][0]["field"] == (
        "password"
    )
    wrong_code = {"password": PASSWORD, "code": "000000"}
    answer = await client.post(f"{MFA}/totp/disable", json=wrong_code, headers=bearer(token))
    assert answer.json()["error"]["details"]["errors"][0]["field"] == "code"
    assert (await world.login("ada@example.com"))["mfa_required"] is True
    right = {"password": PASSWORD, "code": codes[0]}
    off = await client.post(f"{MFA}/totp/disable", json=right, headers=bearer(token))
    assert off.status_code == 204, off.text
    assert "access_token" in await world.login("ada@example.com")
    assert await rows(world.app.state.settings.database_url, "SELECT * FROM recovery_codes") == []


async def test_a_code_works_once_and_drift_of_one_step_only(world: MfaWorld) -> None:
    _, secret, _ = await world.user_with_totp("ada@example.com")
    first = await world.login("ada@example.com")
    code = world.code(secret)
    assert (await world.verify(first["mfa_token"], code)).status_code == 200
    replay = await world.verify((await world.login("ada@example.com"))["mfa_token"], code)
    assert_envelope(replay, 401, "UNAUTHORIZED")

    world.next_step()
    world.next_step()
    late = await world.login("ada@example.com")
    assert (await world.verify(late["mfa_token"], world.code(secret, -2))).status_code == 401
    assert (await world.verify(late["mfa_token"], world.code(secret, 2))).status_code == 401
    # One step behind is accepted; then an older step than the accepted one never is.
    assert (await world.verify(late["mfa_token"], world.code(secret, -1))).status_code == 200
    world.next_step()
    ahead = await world.login("ada@example.com")
    assert (await world.verify(ahead["mfa_token"], world.code(secret, 1))).status_code == 200
    # The current step is now older than the accepted one (one ahead): refused.
    behind = await world.login("ada@example.com")
    assert (await world.verify(behind["mfa_token"], world.code(secret))).status_code == 401


async def test_a_recovery_code_works_once(world: MfaWorld) -> None:
    _, _, codes = await world.user_with_totp("ada@example.com")
    first = await world.login("ada@example.com")
    assert (await world.verify(first["mfa_token"], codes[3].upper())).status_code == 200
    second = await world.login("ada@example.com")
    assert (await world.verify(second["mfa_token"], codes[3])).status_code == 401
    assert (await world.verify(second["mfa_token"], codes[4])).status_code == 200


async def test_the_mfa_token_works_once_and_only_at_verify(world: MfaWorld) -> None:
    client = world.client
    _, secret, _ = await world.user_with_totp("ada@example.com")
    mfa_token = (await world.login("ada@example.com"))["mfa_token"]
    as_access = await client.get("/api/v1/users/me", headers=bearer(mfa_token))
    assert_envelope(as_access, 401, "UNAUTHORIZED")
    as_refresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": mfa_token})
    assert_envelope(as_refresh, 401, "UNAUTHORIZED")
    as_setup = await client.post(f"{MFA}/totp/setup", headers=bearer(mfa_token))
    assert_envelope(as_setup, 401, "UNAUTHORIZED")
    pair = await world.verify(mfa_token, world.code(secret))
    assert pair.status_code == 200
    world.next_step()
    assert_envelope(await world.verify(mfa_token, world.code(secret)), 401, "UNAUTHORIZED")
    access = pair.json()["access_token"]
    assert_envelope(await world.verify(access, world.code(secret)), 401, "UNAUTHORIZED")
    refresh = pair.json()["refresh_token"]
    assert_envelope(await world.verify(refresh, world.code(secret)), 401, "UNAUTHORIZED")


async def test_a_password_change_voids_a_pending_mfa_token(world: MfaWorld) -> None:
    token, secret, _ = await world.user_with_totp("ada@example.com")
    mfa_token = (await world.login("ada@example.com"))["mfa_token"]
    world.clock.advance(timedelta(seconds=1))
    changed = await world.client.patch(
        "/api/v1/users/me",
        json={"password": "a brand new passphrase", "current_password": PASSWORD},
        headers=bearer(token),
    )
    assert changed.status_code == 200, changed.text
    assert_envelope(await world.verify(mfa_token, world.code(secret)), 401, "UNAUTHORIZED")


async def test_the_secret_is_stored_encrypted_and_codes_as_digests(world: MfaWorld) -> None:
    _, secret, codes = await world.user_with_totp("ada@example.com")
    url = world.app.state.settings.database_url
    [(ciphertext,)] = await rows(url, "SELECT secret_ciphertext FROM totp_credentials")
    assert secret not in ciphertext
    assert secret.lower() not in ciphertext.lower()
    assert world.app.state.container.secret_cipher().decrypt(ciphertext) == secret
    stored = " ".join(str(row) for row in await rows(url, "SELECT * FROM recovery_codes"))
    for code in codes:
        assert code not in stored
        assert code.replace("-", "") not in stored


async def test_new_recovery_codes_void_the_old_ones(world: MfaWorld) -> None:
    token, secret, old = await world.user_with_totp("ada@example.com")
    wrong = await world.client.post(
        f"{MFA}/recovery-codes", json={"code": "123456"}, headers=bearer(token)
    )
    assert_envelope(wrong, 422, "VALIDATION_ERROR")
    renewed = await world.client.post(
        f"{MFA}/recovery-codes", json={"code": world.code(secret)}, headers=bearer(token)
    )
    assert renewed.status_code == 200, renewed.text
    new = renewed.json()["recovery_codes"]
    assert len(new) == 10
    assert not set(new) & set(old)
    challenge = (await world.login("ada@example.com"))["mfa_token"]
    assert (await world.verify(challenge, old[0])).status_code == 401
    assert (await world.verify(challenge, new[0])).status_code == 200


async def test_a_wrong_code_at_confirm_leaves_it_pending(world: MfaWorld) -> None:
    client = world.client
    from tests.e2e.http_support import register

    await register(client, "ada@example.com")
    token = (await world.login("ada@example.com"))["access_token"]
    secret = (await client.post(f"{MFA}/totp/setup", headers=bearer(token))).json()["secret"]
    wrong = await client.post(f"{MFA}/totp/confirm", json={"code": "12345a"}, headers=bearer(token))
    assert_envelope(wrong, 422, "VALIDATION_ERROR")
    assert "access_token" in await world.login("ada@example.com")  # still off
    # Set-up again replaces the pending secret: the first one's codes no longer confirm.
    newer = (await client.post(f"{MFA}/totp/setup", headers=bearer(token))).json()["secret"]
    stale = await client.post(
        f"{MFA}/totp/confirm", json={"code": world.code(secret)}, headers=bearer(token)
    )
    assert stale.status_code == 422
    ok = await client.post(
        f"{MFA}/totp/confirm", json={"code": world.code(newer)}, headers=bearer(token)
    )
    assert ok.status_code == 200
    disable_off = await client.post(
        f"{MFA}/totp/disable", json={"password": PASSWORD, "code": "000000"}, headers={}
    )
    assert_envelope(disable_off, 401, "UNAUTHORIZED")
