"""Production without ENCRYPTION_KEY: allowed until a second factor is turned on. Until
then the second factor answers 503 naming the variable and logins without one work; from
then on the server and the worker refuse to start and readiness fails, naming it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from tests.e2e.cli_support import (
    assert_error,
    assert_ok,
    free_port,
    keel_env,
    keel_server,
    run_keel,
)
from tests.e2e.http_support import PASSWORD, assert_envelope, bearer, register
from tests.e2e.mfa_support import MFA, mfa_world

NO_KEY: dict[str, Any] = {
    "environment": "production",
    "jwt_secret": "s" * 48,
    "trusted_hosts": "keel.test",
    "encryption_key": None,
}


def assert_names_the_key(response: Any) -> None:
    error = assert_envelope(response, 503, "SERVICE_UNAVAILABLE")
    assert "ENCRYPTION_KEY" in error["message"], error


async def test_without_a_key_mfa_is_503_naming_it_and_a_plain_login_works(
    postgres_url: str,
) -> None:
    async with mfa_world(postgres_url, **NO_KEY) as world:
        client = world.client
        await register(client, "ada@example.com")
        token = (await world.login("ada@example.com"))["access_token"]
        assert (await client.get("/api/v1/users/me", headers=bearer(token))).status_code == 200
        assert_names_the_key(await client.post(f"{MFA}/totp/setup", headers=bearer(token)))
        confirm = await client.post(
            f"{MFA}/totp/confirm", json={"code": "123456"}, headers=bearer(token)
        )
        assert_envelope(confirm, 409, "CONFLICT")  # nothing pending: no cipher needed
        # Nothing was stored by the refused set-up, and the service is ready.
        ready = await client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["encryption"] == "ok"


async def test_a_role_that_requires_mfa_gets_no_tokens_without_a_key(postgres_url: str) -> None:
    async with mfa_world(postgres_url, mfa_required_roles="user", **NO_KEY) as world:
        await register(world.client, "ada@example.com")
        answer = await world.client.post(
            "/api/v1/auth/login", data={"username": "ada@example.com", "password": PASSWORD}
        )
        assert_names_the_key(answer)
        assert "access_token" not in answer.text
        assert "mfa_token" not in answer.text


async def test_once_a_second_factor_is_on_no_key_means_unready_and_no_start(
    tmp_path: Path, postgres_url: str
) -> None:
    key = Fernet.generate_key().decode()
    env = keel_env(
        tmp_path,
        postgres_url,
        ENVIRONMENT="production",
        JWT_SECRET="s" * 48,
        TRUSTED_HOSTS="127.0.0.1",
        JOBS_IN_PROCESS="false",
        ENCRYPTION_KEY_FILE=str(tmp_path / "key"),
    )
    async with mfa_world(postgres_url, encryption_key=key) as world:
        await register(world.client, "ada@example.com")  # no second factor yet
    with keel_server(env=env, cwd=tmp_path):
        pass  # starts: no second factor is on
    async with mfa_world(postgres_url, encryption_key=key) as world:
        await world.user_with_totp("bob@example.com")
    async with mfa_world(postgres_url, **NO_KEY) as world:
        ready = await world.client.get("/health/ready")
        error = assert_envelope(ready, 503, "SERVICE_UNAVAILABLE")
        assert "ENCRYPTION_KEY" in error["details"]["checks"]["encryption"]
        login = await world.client.post(
            "/api/v1/auth/login", data={"username": "bob@example.com", "password": PASSWORD}
        )
        assert_names_the_key(login)
    for command in (["serve", "--port", str(free_port())], ["worker"]):
        assert_error(run_keel(command, env=env, cwd=tmp_path), "ENCRYPTION_KEY")
    assert not (tmp_path / "key").exists()  # nothing made up
    env["ENCRYPTION_KEY"] = key
    with keel_server(env=env, cwd=tmp_path):
        pass


def test_reencrypt_without_a_key_says_so(tmp_path: Path, postgres_url: str) -> None:
    env = keel_env(
        tmp_path,
        postgres_url,
        ENVIRONMENT="production",
        JWT_SECRET="s" * 48,
        TRUSTED_HOSTS="127.0.0.1",
    )
    assert_ok(run_keel(["migrate"], env=env, cwd=tmp_path))
    result = run_keel(["users", "reencrypt-secrets"], env=env, cwd=tmp_path)
    assert_error(result, "ENCRYPTION_KEY")
