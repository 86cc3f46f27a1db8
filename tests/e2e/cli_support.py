"""Helpers for running the real `keel` console script as a subprocess."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from entrypoints.http.app import create_app
from entrypoints.settings import Settings

KEEL = Path(sys.executable).with_name("keel")
PASSWORD = "correct horse battery"
RUN_TIMEOUT = 60.0


def sqlite_url_for(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def keel_env(tmp_path: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """A clean environment: nothing of the caller's leaks into the command under test."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "JWT_SECRET_FILE": str(tmp_path / "secret"),
        "ENVIRONMENT": "development",
    }
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    env.update(extra)
    return env


def run_keel(
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    stdin: str = "",
    timeout: float = RUN_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """Run `keel ARGS` to completion; standard input is always given, never inherited."""
    return subprocess.run(
        [str(KEEL), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=dict(env),
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def describe(result: subprocess.CompletedProcess[str]) -> str:
    return (
        f"$ keel {' '.join(result.args[1:])}\nexit {result.returncode}\n"
        f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
    )


def assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, describe(result)
    assert "Traceback" not in result.stdout + result.stderr, describe(result)


def assert_error(result: subprocess.CompletedProcess[str], *fragments: str, code: int = 1) -> str:
    """Exit ``code``, exactly one non-empty line on stderr, starting with ``error:``, and no
    traceback anywhere. Returns that line."""
    assert result.returncode == code, describe(result)
    assert "Traceback" not in result.stdout + result.stderr, describe(result)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, describe(result)
    line = lines[0]
    assert line.startswith("error:"), describe(result)
    assert line.removeprefix("error:").strip(), describe(result)
    for fragment in fragments:
        assert fragment in line, describe(result)
    return line


MIGRATE_STATUS_CODES = {"up to date": 0, "behind": 1, "unknown revision": 2}


def status_of(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """``keel migrate --status`` output as ``{"current": ..., "head": ..., "status": ...}``,
    after checking its exit code is the one the contract gives that status."""
    assert "Traceback" not in result.stdout + result.stderr, describe(result)
    fields: dict[str, str] = {}
    for line in result.stdout.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip().lower()] = value.strip()
    assert {"current", "head", "status"} <= set(fields), describe(result)
    assert fields["status"] in MIGRATE_STATUS_CODES, describe(result)
    assert result.returncode == MIGRATE_STATUS_CODES[fields["status"]], describe(result)
    return fields


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# -- the in-process HTTP app, to prove what the CLI stored ---------------------------------


def http_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        environment="development",
        database_url=database_url,
        jwt_secret_file=tmp_path / "secret",
        _env_file=None,
    )


async def login_status(
    database_url: str, tmp_path: Path, email: str, password: str
) -> tuple[int, dict[str, Any] | None]:
    """Log in through the HTTP app; on success also read GET /users/me with the token."""
    app = create_app(http_settings(database_url, tmp_path))
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://keel.test") as client,
    ):
        response = await client.post(
            "/api/v1/auth/login", data={"username": email, "password": password}
        )
        if response.status_code != 200:
            return response.status_code, None
        token = response.json()["access_token"]
        me = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200, me.text
        body: dict[str, Any] = me.json()
        return 200, body


# -- a pseudo-terminal session -----------------------------------------------------------


def run_keel_in_pty(
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    replies: Sequence[tuple[str, str]],
    timeout: float = RUN_TIMEOUT,
) -> tuple[int, str]:
    """Run `keel ARGS` with a terminal on stdin, stdout and stderr. For each (prompt, reply),
    wait until ``prompt`` appears in new output, then type ``reply``. Returns the exit code
    and everything the terminal showed."""
    master, slave = os.openpty()
    process = subprocess.Popen(
        [str(KEEL), *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=dict(env),
        cwd=cwd,
        start_new_session=True,
    )
    os.close(slave)
    deadline = time.monotonic() + timeout
    shown = bytearray()
    searched_to = 0
    try:
        for prompt, reply in replies:
            needle = prompt.encode()
            while (found := shown.find(needle, searched_to)) < 0:
                if not _read_some(master, shown, deadline):
                    raise AssertionError(f"no {prompt!r} prompt; the terminal showed {shown!r}")
            searched_to = found + len(needle)
            os.write(master, reply.encode())
        while _read_some(master, shown, deadline):
            pass
        code = process.wait(timeout=max(deadline - time.monotonic(), 1.0))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    return code, shown.decode(errors="replace")


def _read_some(master: int, into: bytearray, deadline: float) -> bool:
    """Append what the terminal shows next; False at end of output."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise AssertionError(f"timed out; the terminal showed {bytes(into)!r}")
    ready, _, _ = select.select([master], [], [], remaining)
    if not ready:
        raise AssertionError(f"timed out; the terminal showed {bytes(into)!r}")
    try:
        chunk = os.read(master, 4096)
    except OSError:  # EIO: every copy of the terminal's other side is closed
        return False
    into.extend(chunk)
    return bool(chunk)


# -- a real server -----------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, then wait for a graceful exit."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"keel serve still running {timeout} s after SIGTERM\n{self.output()}"
            ) from None


@contextlib.contextmanager
def keel_server(
    *,
    env: Mapping[str, str],
    cwd: Path,
    name: str = "server",
    args: Sequence[str] = (),
    start_timeout: float = 20.0,
) -> Iterator[Server]:
    """`keel serve` on a free port, ready once GET /health/live answers; killed on exit,
    worker processes included."""
    port = free_port()
    log = cwd / f"{name}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(KEEL), "serve", "--port", str(port), *args],
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        _wait_until_live(server, start_timeout)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _wait_until_live(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(
                f"keel serve exited with {server.process.returncode}\n{server.output()}"
            )
        try:
            if httpx.get(f"{server.base_url}/health/live", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"keel serve not live after {timeout} s\n{server.output()}")
