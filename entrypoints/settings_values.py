"""The values settings take beyond a plain type: how each is read from its text and checked,
with the message that names what is wrong. ``entrypoints.settings`` applies them to its
fields; a ``ValueError`` raised here is reported against the variable being read."""

from __future__ import annotations

import base64
import ipaddress
import os
import re
import secrets
from pathlib import Path

EMBEDDED_DATABASE_URL = "sqlite+aiosqlite:///./keel.db"
EMBEDDED_STORAGE_URL = "file://./keel-blobs"
# One attachment's bytes are counted in a 64-bit column; 5 TiB is S3's largest object.
MAX_ATTACHMENT_BYTES = 5 * 1024**4
MIN_SECRET_BYTES = 32
_RATE = re.compile(r"^\s*([1-9]\d{0,8})\s*/\s*(second|minute|hour|day)\s*$")
_RATE_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_ORIGIN = re.compile(
    r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](:\d{1,5})?$"
)
_HOST_PATTERN = re.compile(r"^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$|^\[[0-9A-Fa-f:.]+\]$")
# What the Sentry SDK accepts: scheme://public_key@host[:port][/path]/project_id.
_SENTRY_DSN = re.compile(r"^https?://[^\s/@:]+(:[^\s/@]*)?@[^\s/@]+(/[^\s]*)?/\d+$")
_BASE_URL = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP_ADDRESS = re.compile(r"\d+\.\d+\.\d+\.\d+")
_PREFIX = re.compile(r"[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*")


def database_url(value: str, environment: object) -> str:
    url = value.strip()
    if not url and environment == "production":
        raise ValueError("is required in production (the embedded SQLite file is not used)")
    for plain in ("postgres://", "postgresql://"):
        if url.startswith(plain):
            return "postgresql+asyncpg://" + url[len(plain) :]
    if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
    return url


def redis_url(value: str | None) -> str | None:
    """Empty is unset; anything else must be a URL the Redis client takes, checked here
    rather than by the client when the first worker starts."""
    url = (value or "").strip()
    if not url:
        return None
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError("must start with redis://, rediss:// or unix://")
    return url


def storage_url(value: str) -> str:
    """Where attachments' bytes live: ``file://`` and a directory (relative to the working
    directory, as in ``file://./keel-blobs``, or absolute, as in ``file:///var/lib/keel``),
    or ``s3://`` and a bucket with an optional key prefix (``s3://keel-blobs/attachments``)."""
    url = value.strip()
    if "\x00" in url:
        raise ValueError("must not contain NUL characters")
    if url.startswith("s3://"):
        s3_location(url)
        return url
    if not url.startswith("file://") or not url.removeprefix("file://").strip():
        raise ValueError(
            "must be file:// followed by a directory (file://./keel-blobs) or s3:// followed "
            "by a bucket and an optional prefix (s3://keel-blobs/attachments)"
        )
    return url


def attachment_types(value: list[str]) -> list[str]:
    """Types the service can sniff, at least one; each once, in lower case."""
    from domain.sniffing import KNOWN_TYPES

    types = list(dict.fromkeys(part.strip().lower() for part in value if part.strip()))
    if not types:
        raise ValueError(f"must name at least one of {', '.join(KNOWN_TYPES)}")
    unknown = [kind for kind in types if kind not in KNOWN_TYPES]
    if unknown:
        raise ValueError(
            f"{', '.join(unknown)} cannot be recognised; choose from {', '.join(KNOWN_TYPES)}"
        )
    return types


def storage_directory(url: str) -> Path:
    return Path(url.removeprefix("file://"))


def s3_location(url: str) -> tuple[str, str]:
    """The bucket and the key prefix (no slash at either end; empty for none) of an
    ``s3://`` URL, each checked against S3's rules."""
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    prefix = prefix.strip("/")
    if not _BUCKET.fullmatch(bucket) or ".." in bucket or _IP_ADDRESS.fullmatch(bucket):
        raise ValueError(
            "s3:// must be followed by a bucket name: 3 to 63 lowercase letters, digits, "
            "dots and hyphens, starting and ending with a letter or digit (credentials go "
            "in the AWS_* variables, never in the URL)"
        )
    if prefix and (len(prefix) > 256 or not _PREFIX.fullmatch(prefix)):
        raise ValueError(
            "s3://: the prefix after the bucket may hold only letters, digits, '_', '-' "
            "and '/' between them (at most 256 characters)"
        )
    return bucket, prefix


def s3_endpoint_url(value: str | None) -> str | None:
    """Empty is unset (AWS's own endpoints); otherwise an S3-compatible server's URL."""
    url = (value or "").strip()
    if not url:
        return None
    if not _BASE_URL.fullmatch(url):
        raise ValueError("must be an http:// or https:// URL, e.g. https://s3.example.com")
    if "@" in url.split("/", 3)[2]:
        raise ValueError("must not carry credentials: use the AWS_* variables")
    return url


def cron_schedule(value: str) -> str:
    from croniter import croniter  # type: ignore[import-untyped]

    if not croniter.is_valid(value):
        raise ValueError(
            "must be a cron schedule such as */10 * * * * (an optional sixth field is seconds)"
        )
    return value


def comma_list(value: object) -> object:
    """A list given as text: comma-separated, blanks dropped."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def origins(value: list[str]) -> list[str]:
    for origin in value:
        if origin != "*" and not _ORIGIN.match(origin):
            raise ValueError(
                f"{origin!r} is not an origin: use scheme://host[:port] with no path, or *"
            )
    return value


def hosts(value: list[str], environment: object) -> list[str]:
    if not value:
        raise ValueError("must name at least one host, or *")
    if "*" in value and environment == "production":
        raise ValueError("must name the hosts the service answers to in production, not *")
    for host in value:
        if host != "*" and not _HOST_PATTERN.match(host):
            raise ValueError(f"{host!r} is not a host name: use example.com, *.example.com or *")
    return value


def networks(value: list[str]) -> list[str]:
    """Each address or CIDR range as its network."""
    found = []
    for entry in value:
        try:
            found.append(str(ipaddress.ip_network(entry, strict=False)))
        except ValueError:
            raise ValueError(
                f"{entry!r} is not an IP address or CIDR range (10.0.0.0/8, 2001:db8::/32)"
            ) from None
    return found


def base_url(value: str) -> str:
    url = value.strip().rstrip("/")
    if not _BASE_URL.match(url):
        raise ValueError("must be an http(s) URL such as https://app.example.com")
    return url


def smtp_tls(value: object) -> object:
    """``true``/``false`` are accepted for STARTTLS or none."""
    if isinstance(value, str):
        value = value.strip().lower()
        return {"true": "starttls", "1": "starttls", "false": "none", "0": "none"}.get(value, value)
    if isinstance(value, bool):
        return "starttls" if value else "none"
    return value


def rate(value: str) -> str:
    if not _RATE.match(value):
        raise ValueError("must look like 5/minute (per second, minute, hour or day)")
    return value.replace(" ", "")


def rate_of(value: str) -> tuple[int, int]:
    """A checked rate as (attempts, window in seconds)."""
    match = _RATE.match(value)
    assert match is not None
    return int(match.group(1)), _RATE_SECONDS[match.group(2)]


def load_or_create_secret(path: Path) -> str:
    try:
        existing = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        existing = ""
    if len(existing.encode()) >= MIN_SECRET_BYTES:
        return existing
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    return secret


def sentry_dsn(value: str) -> str:
    """Checked here, so that a mistyped DSN stops the start-up with its name, not the SDK's
    exception in the first worker. The message does not repeat the value: it holds a key."""
    dsn = value.strip()
    if not _SENTRY_DSN.match(dsn):
        raise ValueError("must be a Sentry DSN: https://KEY@HOST/PROJECT_ID")
    return dsn


def role_names(value: list[str]) -> list[str]:
    """Each a role Keel knows, lower-cased."""
    from domain.role import Role

    known = {role.value for role in Role}
    names = [name.strip().lower() for name in value if name.strip()]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown role {unknown[0]!r}: one of {', '.join(sorted(known))}")
    return names


def new_encryption_key() -> str:
    """A Fernet key: 32 random bytes, URL-safe base64."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def encryption_keys(value: str) -> str:
    """Comma-separated Fernet keys (32 bytes each, URL-safe base64, as
    ``Fernet.generate_key()`` makes them). The message never repeats a key."""
    keys = [key.strip() for key in value.split(",")]
    for position, key in enumerate(keys, start=1):
        try:
            raw = base64.urlsafe_b64decode(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raw = b""
        if len(raw) != 32 or len(key) != 44:
            raise ValueError(
                f"key {position} is not a Fernet key (32 bytes in URL-safe base64, 44 characters)"
            )
    return ",".join(keys)


def load_or_create_encryption_key(path: Path) -> str:
    try:
        existing = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        return encryption_keys(existing)
    key = new_encryption_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key
