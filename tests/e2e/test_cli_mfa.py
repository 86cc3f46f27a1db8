"""`keel users disable-mfa` end to end: the real console script in a subprocess, on a
database where a user turned TOTP on over HTTP (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from cryptography.fernet import Fernet

from tests.e2e.cli_support import assert_error, assert_ok, keel_env, run_keel
from tests.e2e.mfa_support import mfa_world
from tests.support.sql import rows


async def test_an_operator_turns_a_users_second_factor_off(
    tmp_path: Path, database_url: str
) -> None:
    async with mfa_world(database_url) as world:
        await world.user_with_totp("ada@example.com")
        assert (await world.login("ada@example.com"))["mfa_required"] is True
    env = keel_env(tmp_path, database_url)
    command = ["users", "disable-mfa", "--email", "ADA@example.com"]
    result = await asyncio.to_thread(run_keel, command, env=env, cwd=tmp_path)
    assert_ok(result)
    assert await rows(database_url, "SELECT * FROM totp_credentials") == []
    assert await rows(database_url, "SELECT * FROM recovery_codes") == []
    [(actor, details)] = await rows(
        database_url, "SELECT actor_id, details FROM security_events WHERE type = 'mfa.disabled'"
    )
    assert actor is None
    assert json.loads(details) == {"by": "operator"}
    async with mfa_world(database_url) as world:
        assert "access_token" in await world.login("ada@example.com")
    # Nothing left to turn off, and an unknown account: one error line each, exit 1.
    again = await asyncio.to_thread(run_keel, command, env=env, cwd=tmp_path)
    assert "not on" in assert_error(again)
    unknown = ["users", "disable-mfa", "--email", "nobody@example.com"]
    missing = await asyncio.to_thread(run_keel, unknown, env=env, cwd=tmp_path)
    assert "not found" in assert_error(missing).lower()


async def test_rotating_the_encryption_key(tmp_path: Path, database_url: str) -> None:
    """A new key first, the old one after it: old secrets still open; after
    `keel users reencrypt-secrets` the old key can go."""
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    async with mfa_world(database_url, encryption_key=old) as world:
        _, secret, _ = await world.user_with_totp("ada@example.com")
    env = keel_env(tmp_path, database_url, ENCRYPTION_KEY=f"{new},{old}")
    result = await asyncio.to_thread(
        run_keel, ["users", "reencrypt-secrets"], env=env, cwd=tmp_path
    )
    assert_ok(result)
    assert "1 secrets re-encrypted" in result.stdout
    [(ciphertext,)] = await rows(database_url, "SELECT secret_ciphertext FROM totp_credentials")
    assert Fernet(new.encode()).decrypt(ciphertext.encode()).decode() == secret
    async with mfa_world(database_url, encryption_key=new) as world:
        challenge = await world.login("ada@example.com")
        world.next_step()
        assert (await world.verify(challenge["mfa_token"], world.code(secret))).status_code == 200
    # Under a key that opens nothing: refused, and nothing is changed.
    env["ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    result = await asyncio.to_thread(
        run_keel, ["users", "reencrypt-secrets"], env=env, cwd=tmp_path
    )
    assert "1 secrets open with no configured key" in assert_error(result)
    assert await rows(database_url, "SELECT secret_ciphertext FROM totp_credentials") == [
        (ciphertext,)
    ]
