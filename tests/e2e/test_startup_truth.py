"""`keel serve` tells the truth about its database: one warning at start-up naming the
cause, readiness naming it, the cause logged once per change rather than once per request,
and the password nowhere."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from adapters.sqlalchemy.revisions import read_chain
from tests.e2e.cli_support import (
    Server,
    assert_ok,
    free_port,
    keel_env,
    keel_server,
    run_keel,
)
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.postgres

PASSWORD = "Pa55-word-never-shown-7d1e"
ROLE = "keel_auth"
FAILING_REQUESTS = 20
CHAIN = read_chain()
HEAD, COUNT = CHAIN.head, len(CHAIN.revisions)


@pytest.fixture(scope="module")
def password_server() -> Iterator[PostgresServer]:
    """A server of its own where one role must give its password (the shared server trusts
    every local connection, so a wrong password would pass there)."""
    server = PostgresServer(private=True)
    server.start()
    try:
        asyncio.run(_require_password(server))
        yield server
    finally:
        server.stop()


async def _admin(server: PostgresServer, statement: str) -> None:
    connection = await asyncpg.connect(server.dsn("postgres"))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _require_password(server: PostgresServer) -> None:
    connection = await asyncpg.connect(server.dsn("postgres"))
    try:
        await connection.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'")
        hba = Path(await connection.fetchval("SHOW hba_file"))
        rule = f"host all {ROLE} 127.0.0.1/32 scram-sha-256\n"
        await asyncio.to_thread(lambda: hba.write_text(rule + hba.read_text()))
        await connection.fetchval("SELECT pg_reload_conf()")
    finally:
        await connection.close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that takes connections and never says a word, like a database that hangs."""
    with socket.create_server(("127.0.0.1", 0), backlog=64) as sock:
        yield sock.getsockname()[1]


def serve_env(tmp_path: Path, url: str) -> dict[str, str]:
    return keel_env(
        tmp_path,
        url,
        LOG_FORMAT="json",
        JOBS_IN_PROCESS="false",
        REGISTRATION_RATE_LIMIT="1000/minute",
    )


def health_lines(server: Server) -> list[dict[str, Any]]:
    lines = []
    for line in server.output().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("logger") == "keel.health":
            lines.append(record)
    return lines


async def ask(base_url: str) -> tuple[httpx.Response, list[httpx.Response]]:
    """Readiness, then registrations (which need every table) all at once."""
    async with httpx.AsyncClient(base_url=base_url, timeout=20) as client:
        ready = await client.get("/health/ready")
        failures = await asyncio.gather(
            *(
                client.post(
                    "/api/v1/users",
                    json={"email": f"u{n}@example.com", "password": "correct horse battery"},
                )
                for n in range(FAILING_REQUESTS)
            )
        )
        return ready, list(failures)


def check_the_truth(tmp_path: Path, url: str, cause: str) -> None:
    with keel_server(env=serve_env(tmp_path, url), cwd=tmp_path) as server:
        # The start-up check ran before the server was live: one warning, with the cause.
        [warning] = health_lines(server)
        assert warning["level"] == "warning", warning
        assert warning["event"].startswith(f"database not ready at start-up: {cause}"), warning

        ready, failures = asyncio.run(ask(server.base_url))
        assert ready.status_code == 503, ready.text
        error = ready.json()["error"]
        assert error["code"] == "SERVICE_UNAVAILABLE"
        assert error["details"] == {"checks": {"database": cause, "storage": "ok"}}
        for response in [ready, *failures]:
            assert PASSWORD not in response.text
        assert [r.status_code for r in failures] == [503] * FAILING_REQUESTS, failures[0].text
        # Time for the watcher the failures woke to look, more than once.
        asyncio.run(asyncio.sleep(2.5))
        server.stop()
        records = health_lines(server)
        assert [r for r in records if cause in r["event"]] == [warning], records
        assert PASSWORD not in server.output()
        assert "The database is unavailable" not in server.output()


def test_a_wrong_password(tmp_path: Path, password_server: PostgresServer) -> None:
    url = f"postgresql+asyncpg://{ROLE}:wrong-{PASSWORD}@127.0.0.1:{password_server.port}/postgres"
    check_the_truth(tmp_path, url, "authentication failed")


def test_a_database_that_does_not_exist(tmp_path: Path, password_server: PostgresServer) -> None:
    url = (
        f"postgresql+asyncpg://{ROLE}:{PASSWORD}@127.0.0.1:{password_server.port}"
        f"/no_such_{uuid.uuid4().hex[:8]}"
    )
    check_the_truth(tmp_path, url, "database does not exist")


def test_a_refused_port(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://keel:{PASSWORD}@127.0.0.1:{free_port()}/keel"
    check_the_truth(tmp_path, url, "connection refused")


def test_a_database_that_hangs(tmp_path: Path, silent_port: int) -> None:
    url = f"postgresql+asyncpg://keel:{PASSWORD}@127.0.0.1:{silent_port}/keel"
    check_the_truth(tmp_path, url, "timed out")


def test_a_database_behind_the_code(tmp_path: Path, password_server: PostgresServer) -> None:
    name = f"behind_{uuid.uuid4().hex[:8]}"
    password_server.create_database(name)
    asyncio.run(_admin(password_server, f"ALTER DATABASE {name} OWNER TO {ROLE}"))
    url = f"postgresql+asyncpg://{ROLE}:{PASSWORD}@127.0.0.1:{password_server.port}/{name}"
    assert_ok(run_keel(["migrate", "--to", "0003"], env=serve_env(tmp_path, url), cwd=tmp_path))
    check_the_truth(tmp_path, url, f"behind migration {HEAD} (at 0003, 3 of {COUNT})")


def test_each_change_is_logged_once_while_serving(
    tmp_path: Path, password_server: PostgresServer
) -> None:
    """Behind at start-up, recovered once migrated, then down for another cause."""
    name = f"changes_{uuid.uuid4().hex[:8]}"
    password_server.create_database(name)
    asyncio.run(_admin(password_server, f"ALTER DATABASE {name} OWNER TO {ROLE}"))
    url = f"postgresql+asyncpg://{ROLE}:{PASSWORD}@127.0.0.1:{password_server.port}/{name}"
    env = serve_env(tmp_path, url)
    assert_ok(run_keel(["migrate", "--to", "0003"], env=env, cwd=tmp_path))
    with keel_server(env=env, cwd=tmp_path) as server:
        assert_ok(run_keel(["migrate"], env=env, cwd=tmp_path))
        wait_for_health_lines(server, 2)  # a failed request wakes the watcher
        assert httpx.get(f"{server.base_url}/health/ready", timeout=10).status_code == 200
        asyncio.run(_admin(password_server, f"DROP DATABASE {name} WITH (FORCE)"))
        asyncio.run(ask(server.base_url))
        wait_for_health_lines(server, 4)
        asyncio.run(asyncio.sleep(2.5))
        server.stop()
        events = [(r["level"], r["event"].split(" (")[0]) for r in health_lines(server)]
    # The first check after the drop meets the pooled connection the server ended (a cause
    # readiness calls "unavailable"); the pool lets it go, and the next check finds why.
    assert events == [
        ("warning", f"database not ready at start-up: behind migration {HEAD}"),
        ("info", "database check recovered"),
        ("warning", "database check failing: unavailable"),
        ("warning", "database check failing: database does not exist"),
    ]
    assert PASSWORD not in server.output()


def wait_for_health_lines(server: Server, count: int) -> None:
    async def wait() -> None:
        async with asyncio.timeout(15):
            while len(health_lines(server)) < count:
                async with httpx.AsyncClient(base_url=server.base_url) as client:
                    await client.post("/api/v1/users", json={"email": "x@example.com"})
                await asyncio.sleep(0.2)

    asyncio.run(wait())
