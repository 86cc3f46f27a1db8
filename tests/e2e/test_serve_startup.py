"""`keel serve` that cannot start: one `error:` line, a non-zero exit, nothing served."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.cli_support import assert_error, keel_env, run_keel, sqlite_url_for

# An address of TEST-NET-1 (RFC 5737): never one of this machine's.
FOREIGN_ADDRESS = "192.0.2.1"


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port another process listens on."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        yield sock.getsockname()[1]


def serve(tmp_path: Path, *args: str, **variables: str) -> str:
    env = keel_env(tmp_path, sqlite_url_for(tmp_path / "k.db"), **variables)
    return assert_error(run_keel(["serve", *args], env=env, cwd=tmp_path, timeout=30))


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_port_in_use(tmp_path: Path, held_port: int, workers: str) -> None:
    line = serve(tmp_path, "--port", str(held_port), "--workers", workers)
    assert line == f"error: cannot listen on 127.0.0.1:{held_port}: address already in use"


def test_an_address_that_is_not_this_machines(tmp_path: Path, held_port: int) -> None:
    line = serve(tmp_path, "--host", FOREIGN_ADDRESS, "--port", str(held_port))
    assert line.startswith(f"error: cannot listen on {FOREIGN_ADDRESS}:{held_port}: ")


def test_a_host_name_that_does_not_resolve(tmp_path: Path) -> None:
    line = serve(tmp_path, "--host", "no-such-host.invalid")
    assert line.startswith("error: cannot listen on no-such-host.invalid:8000: ")


def test_a_bad_setting(tmp_path: Path) -> None:
    line = serve(tmp_path, LOG_LEVEL="LOUD")
    assert "LOG_LEVEL" in line


def test_a_bad_setting_is_named_before_a_port_in_use(tmp_path: Path, held_port: int) -> None:
    line = serve(tmp_path, "--port", str(held_port), DATABASE_POOL_SIZE="many")
    assert "DATABASE_POOL_SIZE" in line


def test_a_redis_url_the_client_cannot_take(tmp_path: Path) -> None:
    """Refused with the settings, not by the client in the first worker with a traceback;
    and the URL, which may hold a password, is not repeated."""
    line = serve(tmp_path, REDIS_URL="redis-cluster://user:hunter2@cache:6379")
    assert "REDIS_URL" in line
    assert "hunter2" not in line


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["serve", "--port", "abc"], ["'--port'", "keel serve --help"]),
        (["serve", "--port", "0"], ["'--port'", "greater than or equal to 1"]),
        (["serve", "--workers", "65"], ["'--workers'"]),
        (["serve", "--bogus"], ["--bogus", "keel serve --help"]),
        (["no-such-command"], ["no-such-command", "keel --help"]),
        (["jobs", "retry"], ["Missing argument", "keel jobs retry --help"]),
    ],
)
def test_a_usage_error_is_one_line_and_exit_2(
    tmp_path: Path, args: list[str], fragments: list[str]
) -> None:
    env = keel_env(tmp_path, sqlite_url_for(tmp_path / "k.db"))
    result = run_keel(args, env=env, cwd=tmp_path)
    assert_error(result, *fragments, code=2)
    assert result.stdout == ""
    assert not (tmp_path / "k.db").exists()
