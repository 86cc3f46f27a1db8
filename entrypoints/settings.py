"""Settings from environment variables or `.env`, validated once at start-up."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from domain.attachment import MIB
from domain.sniffing import KNOWN_TYPES
from entrypoints import settings_values as values
from entrypoints.settings_values import EMBEDDED_DATABASE_URL, MIN_SECRET_BYTES

Environment = Literal["development", "test", "staging", "production"]
STRICT_ENVIRONMENTS = ("staging", "production")
# An HMAC key shorter than the hash it feeds weakens it (RFC 7518, section 3.2).
MIN_SECRET_BYTES_BY_ALGORITHM = {"HS256": 32, "HS384": 48, "HS512": 64}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        case_sensitive=False,
    )

    environment: Environment = "development"
    database_url: str = EMBEDDED_DATABASE_URL
    database_pool_size: int = Field(20, ge=1, le=1000)
    database_max_overflow: int = Field(0, ge=0, le=1000)
    database_pool_timeout: float = Field(5.0, gt=0, le=300)
    database_pool_recycle: int = Field(1800, ge=-1)
    database_statement_timeout_ms: int = Field(15_000, ge=0, le=3_600_000)

    jwt_secret_file: Path = Path(".keel-jwt-secret")
    jwt_secret: SecretStr | None = Field(None, validate_default=True)
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    jwt_issuer: str = Field("keel", min_length=1, max_length=200)
    jwt_audience: str = Field("keel-api", min_length=1, max_length=200)
    access_token_expire_minutes: int = Field(15, ge=1, le=60)
    refresh_token_expire_days: int = Field(7, ge=1, le=30)

    argon2_time_cost: int = Field(2, ge=2, le=20)
    argon2_memory_cost_kib: int = Field(19_456, ge=19_456, le=4_194_304)
    argon2_parallelism: int = Field(1, ge=1, le=16)
    password_hash_threads: int = Field(1, ge=1, le=64)
    password_hash_queue_size: int = Field(16, ge=0, le=10_000)

    redis_url: str | None = None
    cors_origins: Annotated[list[str], NoDecode] = []
    trusted_hosts: Annotated[list[str], NoDecode] = Field(["*"], validate_default=True)
    trusted_proxies: Annotated[list[str], NoDecode] = []
    forwarded_header: Literal["x-forwarded-for", "forwarded"] = "x-forwarded-for"
    max_request_body_bytes: int = Field(1_048_576, ge=1024, le=104_857_600)
    ws_max_connections_per_user: int = Field(10, ge=1, le=1000)
    ws_connection_ttl_seconds: float = Field(30.0, ge=0.5, le=3600)
    ws_ping_seconds: float = Field(20.0, gt=0, le=3600)
    ws_pong_timeout_seconds: float = Field(20.0, gt=0, le=3600)
    http_head_timeout_seconds: float = Field(10.0, gt=0, le=300)
    http_body_timeout_seconds: float = Field(10.0, gt=0, le=300)
    http_body_min_rate: int = Field(1024, ge=1, le=104_857_600)
    http_keep_alive_seconds: int = Field(5, ge=1, le=300)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["json", "console"] | None = None
    docs_enabled: bool | None = None
    open_registration: bool = True
    login_rate_limit: str = "5/minute"
    login_address_rate_limit: str = "50/minute"
    registration_rate_limit: str = "20/hour"

    public_base_url: str = "http://localhost:8000"
    require_verified_email: bool = False
    email_from: str = Field("Keel <no-reply@localhost>", min_length=3, max_length=320)
    smtp_host: str | None = None
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_tls: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_timeout_seconds: float = Field(10.0, gt=0, le=120)
    # Unset: on in development and test, where `keel serve` runs the jobs itself; off
    # elsewhere, where `keel worker` runs them.
    jobs_in_process: bool | None = None
    housekeeping_cron: str = Field("*/10 * * * *", min_length=9, max_length=100)
    # Security events older than this are deleted by housekeeping (ten years at most).
    audit_retention_days: int = Field(365, ge=1, le=3650)
    worker_metrics_port: int | None = Field(None, ge=1, le=65535)
    storage_url: str = Field(values.EMBEDDED_STORAGE_URL, min_length=1, max_length=2000)
    # An S3-compatible server for an s3:// STORAGE_URL; unset: AWS's own endpoints. The
    # credentials and region come from the standard AWS_* variables, read by the client.
    s3_endpoint_url: str | None = Field(None, max_length=2000)
    attachment_max_bytes: int = Field(10 * MIB, ge=1, le=values.MAX_ATTACHMENT_BYTES)
    attachment_quota_bytes: int = Field(100 * MIB, ge=0, le=2**62)
    attachment_types: Annotated[list[str], NoDecode] = Field(
        list(KNOWN_TYPES), validate_default=True
    )
    # Set: unhandled errors (the 500s, jobs out of tries) are reported to Sentry.
    sentry_dsn: SecretStr | None = None
    # Roles whose holders must log in with a second factor (and set one up first).
    mfa_required_roles: Annotated[list[str], NoDecode] = []
    # Fernet keys, comma-separated: the first encrypts, every one decrypts (rotation).
    encryption_key_file: Path = Path(".keel-encryption-key")
    encryption_key: SecretStr | None = Field(None, validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _no_embedded_database_in_production(cls, data: Any) -> Any:
        """Production never falls back to the embedded SQLite file: an unset DATABASE_URL is
        checked there as an empty one, so that it is named along with every other problem."""
        if (
            isinstance(data, dict)
            and data.get("environment") == "production"
            and not data.get("database_url")
        ):
            return {**data, "database_url": ""}
        return data

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str, info: ValidationInfo) -> str:
        return values.database_url(value, info.data.get("environment"))

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        return values.redis_url(value)

    @field_validator("storage_url")
    @classmethod
    def _storage_url(cls, value: str) -> str:
        return values.storage_url(value)

    @field_validator("s3_endpoint_url")
    @classmethod
    def _s3_endpoint_url(cls, value: str | None) -> str | None:
        return values.s3_endpoint_url(value)

    @field_validator("attachment_types", mode="before")
    @classmethod
    def _types_list(cls, value: object) -> object:
        return values.comma_list(value)

    @field_validator("attachment_types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        return values.attachment_types(value)

    @field_validator("housekeeping_cron")
    @classmethod
    def _a_schedule(cls, value: str) -> str:
        return values.cron_schedule(value)

    @field_validator("sentry_dsn")
    @classmethod
    def _dsn(cls, value: SecretStr | None) -> SecretStr | None:
        return None if value is None else SecretStr(values.sentry_dsn(value.get_secret_value()))

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator(
        "cors_origins", "trusted_hosts", "trusted_proxies", "mfa_required_roles", mode="before"
    )
    @classmethod
    def _comma_list(cls, value: object) -> object:
        return values.comma_list(value)

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        return values.origins(value)

    @field_validator("trusted_hosts")
    @classmethod
    def _hosts(cls, value: list[str], info: ValidationInfo) -> list[str]:
        return values.hosts(value, info.data.get("environment"))

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: list[str]) -> list[str]:
        return values.networks(value)

    @field_validator("forwarded_header", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("mfa_required_roles")
    @classmethod
    def _roles(cls, value: list[str]) -> list[str]:
        return values.role_names(value)

    @field_validator("encryption_key")
    @classmethod
    def _encryption_key(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        environment = info.data.get("environment", "development")
        keys = value.get_secret_value().strip() if value is not None else ""
        if not keys:
            # Strict environments run without one until a second factor is on: the
            # contract requires it only then (start-up and readiness check that).
            if environment == "test":
                return SecretStr(values.new_encryption_key())
            return None
        return SecretStr(values.encryption_keys(keys))

    @field_validator("public_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return values.base_url(value)

    @field_validator("smtp_tls", mode="before")
    @classmethod
    def _tls(cls, value: object) -> object:
        return values.smtp_tls(value)

    @field_validator("login_rate_limit", "login_address_rate_limit", "registration_rate_limit")
    @classmethod
    def _rate(cls, value: str) -> str:
        return values.rate(value)

    @field_validator("jwt_secret")
    @classmethod
    def _secret(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        environment = info.data.get("environment", "development")
        secret = value.get_secret_value() if value is not None else ""
        if environment in STRICT_ENVIRONMENTS:
            if not secret:
                raise ValueError(f"is required in {environment}")
            if len(secret.encode()) < MIN_SECRET_BYTES:
                raise ValueError(f"must be at least {MIN_SECRET_BYTES} bytes in {environment}")
        if not secret and environment == "test":
            return SecretStr(secrets.token_urlsafe(48))
        return value if secret else None

    @model_validator(mode="after")
    def _secret_fits_algorithm(self) -> Settings:
        if self.jwt_secret is None:
            return self
        needed = MIN_SECRET_BYTES_BY_ALGORITHM[self.jwt_algorithm]
        if len(self.jwt_secret.get_secret_value().encode()) < needed:
            raise ValueError(f"JWT_SECRET must be at least {needed} bytes for {self.jwt_algorithm}")
        return self

    @property
    def is_strict(self) -> bool:
        """Staging and production refuse the conveniences of development."""
        return self.environment in STRICT_ENVIRONMENTS

    @property
    def effective_log_format(self) -> str:
        if self.log_format:
            return self.log_format
        return "console" if self.environment in ("development", "test") else "json"

    @property
    def effective_jobs_in_process(self) -> bool:
        if self.jobs_in_process is not None:
            return self.jobs_in_process
        return self.environment in ("development", "test")

    @property
    def uses_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    @property
    def effective_docs_enabled(self) -> bool:
        if self.docs_enabled is not None:
            return self.docs_enabled
        return self.environment != "production"

    @property
    def login_rate(self) -> tuple[int, int]:
        """``LOGIN_RATE_LIMIT`` as (attempts, window in seconds)."""
        return values.rate_of(self.login_rate_limit)

    @property
    def login_address_rate(self) -> tuple[int, int]:
        return values.rate_of(self.login_address_rate_limit)

    @property
    def registration_rate(self) -> tuple[int, int]:
        return values.rate_of(self.registration_rate_limit)

    def jwt_secret_value(self) -> str:
        """The signing key; in development one is generated once and kept in a local file."""
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        secret = values.load_or_create_secret(self.jwt_secret_file)
        self.jwt_secret = SecretStr(secret)
        return secret

    def encryption_key_value(self) -> str | None:
        """The keys secrets are kept under; in development one is generated once and kept in
        a local file, like the JWT secret. None where strict and unset: nothing is made up
        there, and the second factor answers that it is unavailable."""
        if self.encryption_key is not None:
            return self.encryption_key.get_secret_value()
        if self.environment in STRICT_ENVIRONMENTS:
            return None
        keys = values.load_or_create_encryption_key(self.encryption_key_file)
        self.encryption_key = SecretStr(keys)
        return keys


def load_settings() -> Settings:
    return Settings()


def describe_settings_error(exc: ValidationError) -> str:
    """One readable line naming each bad variable."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        name = "_".join(str(part) for part in error["loc"]).upper()
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"{name}: {message}" if name else message)
    return "invalid settings: " + "; ".join(problems)
