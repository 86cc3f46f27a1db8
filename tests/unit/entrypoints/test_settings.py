"""Settings are checked once, at start-up, and every problem is named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from entrypoints.settings import Settings, describe_settings_error

# A Fernet key, for the environments that require one.
ENCRYPTION_KEY = "IupzHTMrOXaFMRE85WOTEYIcs3NDLK0WVQIWfYBM1Jc="


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def problem(**values: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        settings(**values)
    return describe_settings_error(caught.value)


def test_development_needs_no_configuration() -> None:
    made = settings()
    assert made.environment == "development"
    assert made.database_url == "sqlite+aiosqlite:///./keel.db"
    assert made.effective_docs_enabled


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_strict_environments_refuse_a_missing_or_short_secret(environment: str) -> None:
    deployed = {
        "database_url": "postgresql+asyncpg://keel@db/keel",
        "trusted_hosts": "api.x.io",
        "encryption_key": ENCRYPTION_KEY,
    }
    expected = f"invalid settings: JWT_SECRET: is required in {environment}"
    assert problem(environment=environment, **deployed) == expected
    assert "at least 32 bytes" in problem(environment=environment, jwt_secret="x" * 31, **deployed)
    assert settings(environment=environment, jwt_secret="x" * 32, **deployed).is_strict


@pytest.mark.parametrize(("algorithm", "needed"), [("HS384", 48), ("HS512", 64)])
def test_longer_hashes_need_longer_secrets(algorithm: str, needed: int) -> None:
    assert f"at least {needed} bytes" in problem(jwt_algorithm=algorithm, jwt_secret="x" * 40)
    assert settings(jwt_algorithm=algorithm, jwt_secret="x" * needed).jwt_algorithm == algorithm


def test_every_bad_variable_is_named_in_one_line() -> None:
    message = problem(access_token_expire_minutes=61, database_pool_size=0, jwt_algorithm="none")
    assert "\n" not in message
    for name in ("ACCESS_TOKEN_EXPIRE_MINUTES", "DATABASE_POOL_SIZE", "JWT_ALGORITHM"):
        assert name in message


@pytest.mark.parametrize(
    ("values", "name"),
    [
        ({"database_url": "mysql://db/keel"}, "DATABASE_URL"),
        ({"refresh_token_expire_days": 31}, "REFRESH_TOKEN_EXPIRE_DAYS"),
        ({"argon2_memory_cost_kib": 1024}, "ARGON2_MEMORY_COST_KIB"),
        ({"login_rate_limit": "lots"}, "LOGIN_RATE_LIMIT"),
        ({"environment": "prod"}, "ENVIRONMENT"),
        ({"cors_origins": "https://app.example.com/"}, "CORS_ORIGINS"),
        ({"cors_origins": "app.example.com"}, "CORS_ORIGINS"),
        ({"trusted_hosts": "https://api.example.com"}, "TRUSTED_HOSTS"),
        ({"trusted_hosts": "api.example.com:8000"}, "TRUSTED_HOSTS"),
        ({"trusted_hosts": " , "}, "TRUSTED_HOSTS"),
        ({"max_request_body_bytes": 10}, "MAX_REQUEST_BODY_BYTES"),
        ({"trusted_proxies": "10.0.0.0/8, proxy.internal"}, "TRUSTED_PROXIES"),
        ({"trusted_proxies": "10.0.0.0/33"}, "TRUSTED_PROXIES"),
        ({"forwarded_header": "x-real-ip"}, "FORWARDED_HEADER"),
        ({"login_address_rate_limit": "0/minute"}, "LOGIN_ADDRESS_RATE_LIMIT"),
        ({"registration_rate_limit": "ten/hour"}, "REGISTRATION_RATE_LIMIT"),
        ({"password_hash_queue_size": -1}, "PASSWORD_HASH_QUEUE_SIZE"),
        ({"audit_retention_days": 0}, "AUDIT_RETENTION_DAYS"),
        ({"audit_retention_days": "a year"}, "AUDIT_RETENTION_DAYS"),
    ],
)
def test_invalid_values_name_their_variable(values: dict[str, Any], name: str) -> None:
    assert name in problem(**values)


def test_plain_postgres_urls_get_the_async_driver() -> None:
    made = settings(database_url="postgres://u:p@db:5432/keel")
    assert made.database_url == "postgresql+asyncpg://u:p@db:5432/keel"
    assert settings(login_rate_limit=" 10 / hour ").login_rate == (10, 3600)


def test_origins_and_hosts_are_comma_separated_lists() -> None:
    made = settings(
        cors_origins="https://app.example.com, http://localhost:5173",
        trusted_hosts="api.example.com,*.example.org, [::1]",
    )
    assert made.cors_origins == ["https://app.example.com", "http://localhost:5173"]
    assert made.trusted_hosts == ["api.example.com", "*.example.org", "[::1]"]
    assert settings().cors_origins == []
    assert settings().trusted_hosts == ["*"]
    assert settings().max_request_body_bytes == 1024 * 1024


PRODUCTION_SECRET = "s" * 48


def test_production_refuses_the_embedded_database_and_any_host_naming_both() -> None:
    message = problem(
        environment="production", jwt_secret=PRODUCTION_SECRET, encryption_key=ENCRYPTION_KEY
    )
    assert "\n" not in message
    assert "DATABASE_URL: is required in production" in message
    assert "TRUSTED_HOSTS: must name the hosts the service answers to in production" in message
    # Every problem at once, the secret's included.
    assert "JWT_SECRET" in problem(environment="production")
    assert "DATABASE_URL" in problem(environment="production")
    assert "TRUSTED_HOSTS" in problem(environment="production")


def test_production_refuses_any_host_even_among_named_ones() -> None:
    message = problem(
        environment="production",
        jwt_secret=PRODUCTION_SECRET,
        encryption_key=ENCRYPTION_KEY,
        database_url="postgresql+asyncpg://keel@db/keel",
        trusted_hosts="api.example.com,*",
    )
    assert message.startswith("invalid settings: TRUSTED_HOSTS:")
    assert "DATABASE_URL" not in message


def test_an_empty_database_url_in_production_is_a_missing_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("JWT_SECRET", PRODUCTION_SECRET)
    monkeypatch.setenv("ENCRYPTION_KEY", ENCRYPTION_KEY)
    monkeypatch.setenv("TRUSTED_HOSTS", "api.example.com")
    monkeypatch.setenv("DATABASE_URL", "")
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None)
    assert describe_settings_error(caught.value).startswith("invalid settings: DATABASE_URL:")


def test_production_starts_with_a_database_and_named_hosts() -> None:
    made = settings(
        environment="production",
        jwt_secret=PRODUCTION_SECRET,
        encryption_key=ENCRYPTION_KEY,
        database_url="postgres://keel@db/keel",
        trusted_hosts="api.example.com,localhost",
    )
    assert made.database_url == "postgresql+asyncpg://keel@db/keel"
    assert made.trusted_hosts == ["api.example.com", "localhost"]
    # A SQLite file is still a choice production may make, as long as it is made.
    explicit = settings(
        environment="production",
        jwt_secret=PRODUCTION_SECRET,
        encryption_key=ENCRYPTION_KEY,
        database_url="sqlite+aiosqlite:///./keel.db",
        trusted_hosts="api.example.com",
    )
    assert explicit.database_url == "sqlite+aiosqlite:///./keel.db"


@pytest.mark.parametrize("environment", ["development", "test", "staging"])
def test_other_environments_keep_the_defaults(environment: str) -> None:
    made = settings(
        environment=environment, jwt_secret=PRODUCTION_SECRET, encryption_key=ENCRYPTION_KEY
    )
    assert made.database_url == "sqlite+aiosqlite:///./keel.db"
    assert made.trusted_hosts == ["*"]


def test_the_sentry_dsn_is_off_by_default_and_never_shown() -> None:
    assert settings().sentry_dsn is None
    made = settings(sentry_dsn=" https://0123abcd@o1.ingest.example.com/42 ")
    assert made.sentry_dsn is not None
    assert made.sentry_dsn.get_secret_value() == "https://0123abcd@o1.ingest.example.com/42"
    assert "0123abcd" not in repr(made) + str(made.model_dump())


@pytest.mark.parametrize(
    "dsn", ["0123abcd", "https://o1.example.com/42", "https://key@o1.example.com/", "ftp://k@h/1"]
)
def test_a_malformed_sentry_dsn_is_named_without_its_value(dsn: str) -> None:
    message = problem(sentry_dsn=dsn)
    assert (
        message == "invalid settings: SENTRY_DSN: must be a Sentry DSN: https://KEY@HOST/PROJECT_ID"
    )


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_encryption_key_is_optional_where_strict_until_mfa_and_checked_everywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, environment: str
) -> None:
    """Required once a second factor is on (the server's start-up checks that), not before:
    without one, nothing is made up or written to a file."""
    monkeypatch.chdir(tmp_path)
    deployed = {"database_url": "postgres://keel@db/keel", "trusted_hosts": "api.example.com"}
    kept = tmp_path / "key"
    unset = settings(
        environment=environment, jwt_secret=PRODUCTION_SECRET, encryption_key_file=kept, **deployed
    )
    assert unset.encryption_key_value() is None
    assert unset.encryption_key is None
    assert list(tmp_path.iterdir()) == []
    bad = problem(
        environment=environment,
        jwt_secret=PRODUCTION_SECRET,
        encryption_key=f"{ENCRYPTION_KEY},not-a-key",
        **deployed,
    )
    assert bad.startswith("invalid settings: ENCRYPTION_KEY: key 2 is not a Fernet key")
    assert "not-a-key" not in bad


def test_encryption_key_is_checked_everywhere_and_made_where_not_strict(tmp_path: Path) -> None:
    bad = problem(encryption_key=f"{ENCRYPTION_KEY},not-a-key")
    assert bad.startswith("invalid settings: ENCRYPTION_KEY: key 2 is not a Fernet key")
    assert "not-a-key" not in bad
    rotated = settings(encryption_key=f" {ENCRYPTION_KEY} , {'A' * 43}= ")
    assert rotated.encryption_key_value() == f"{ENCRYPTION_KEY},{'A' * 43}="
    # Test: a fresh one each time; development: made once and kept in its file.
    assert settings(environment="test").encryption_key_value() != ENCRYPTION_KEY
    kept = tmp_path / "key"
    first = settings(encryption_key_file=kept).encryption_key_value()
    assert settings(encryption_key_file=kept).encryption_key_value() == first
    assert oct(kept.stat().st_mode & 0o777) == "0o600"


def test_mfa_required_roles_are_known_roles() -> None:
    assert settings(mfa_required_roles=" Admin ,user").mfa_required_roles == ["admin", "user"]
    assert "MFA_REQUIRED_ROLES: unknown role 'root'" in problem(mfa_required_roles="admin,root")
