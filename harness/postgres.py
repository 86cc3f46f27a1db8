"""A throwaway PostgreSQL server, for the test session and the benchmark.

PostgreSQL refuses to run as root, so when the tests run as root the server runs as `nobody`,
in a temporary data directory, on a free loopback port, with durability off for speed.
``KEEL_TEST_POSTGRES_URL`` (an admin URL) points the tests at an existing server instead.
A server the tests started can also be halted and resumed on the same data and port, to play
a database outage.
"""

# ruff: noqa: S603, S607
# (S603, S607: it starts initdb, postgres and pg_config, as found on this machine.)
from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped]

from harness.ports import free_port

T = TypeVar("T")


def find_bindir() -> Path:
    candidates = []
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        candidates.append(out.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).resolve().parent))
    for candidate in candidates:
        bindir = Path(candidate)
        if candidate and (bindir / "initdb").exists() and (bindir / "postgres").exists():
            return bindir
    raise RuntimeError("PostgreSQL server binaries not found: run `make servers` (installs them)")


def _version(bindir: str) -> tuple[int, ...]:
    """``/usr/lib/postgresql/9.6/bin`` -> (9, 6): the highest version wins."""
    return tuple(int(part) for part in bindir.split("/")[-2].split(".") if part.isdigit())


class PostgresServer:
    def __init__(self, *, private: bool = False) -> None:
        """``private``: always a server of its own, even when ``KEEL_TEST_POSTGRES_URL`` is set
        (for tests that stop and restart it)."""
        self._process: subprocess.Popen[bytes] | None = None
        self._dir: Path | None = None
        self._log: IO[bytes] | None = None
        self._command: list[str] = []
        self._run_as: dict[str, Any] = {}
        self._admin_url = None if private else os.environ.get("KEEL_TEST_POSTGRES_URL")
        self.host = "127.0.0.1"
        self.port = 0
        self.user = "postgres"

    def start(self) -> None:
        if self._admin_url:
            return
        self._init_cluster()
        self.port = free_port()
        self._launch()

    def _init_cluster(self) -> None:
        bindir = find_bindir()
        as_root = os.geteuid() == 0
        # Under /tmp when the server runs as `nobody`: TMPDIR may sit below a private home.
        parent = "/tmp" if as_root else None  # noqa: S108 (mkdtemp: a fresh 0700 directory)
        self._dir = Path(tempfile.mkdtemp(prefix="keel-pg-", dir=parent))
        data, sockets = self._dir / "data", self._dir / "sock"
        sockets.mkdir()
        self._run_as = {}
        if as_root:
            nobody = pwd.getpwnam("nobody")
            self._run_as = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
            for path in (self._dir, sockets):
                os.chown(path, nobody.pw_uid, nobody.pw_gid)
        os.chmod(self._dir, 0o700)
        initdb = [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", self.user]
        initdb += ["--encoding=UTF8"]
        done = subprocess.run([*initdb, "--locale=C.UTF-8"], capture_output=True, **self._run_as)
        if done.returncode != 0:
            shutil.rmtree(data, ignore_errors=True)
            done = subprocess.run([*initdb, "--no-locale"], capture_output=True, **self._run_as)
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr.decode(errors='replace')[-2000:]}")
        settings = {
            "listen_addresses": self.host,
            "unix_socket_directories": str(sockets),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
        }
        self._command = [str(bindir / "postgres"), "-D", str(data)]
        for name, value in settings.items():
            self._command += ["-c", f"{name}={value}"]

    def _launch(self) -> None:
        """Start the postmaster on the data directory and port already chosen."""
        assert self._dir is not None, "no data directory: call start() first"
        log = self._dir / "server.log"
        self._log = open(log, "ab")  # noqa: SIM115 (kept open for the server's lifetime)
        self._process = subprocess.Popen(
            [*self._command, "-p", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            **self._run_as,
        )
        self._wait_ready(log)

    @property
    def can_halt(self) -> bool:
        """Only a server these tests started can be stopped and started again."""
        return not self._admin_url

    def halt(self) -> None:
        """Stop the server process (fast shutdown: open sessions are ended), keeping its data
        directory and port, as a database outage does."""
        if not self.can_halt:
            raise RuntimeError("cannot halt a server given by KEEL_TEST_POSTGRES_URL")
        self._shut_down()

    def resume(self) -> None:
        """Start the server again after ``halt()``: same data, same port, same URLs."""
        if not self.can_halt:
            raise RuntimeError("cannot resume a server given by KEEL_TEST_POSTGRES_URL")
        assert self._process is None, "the server is running"
        self._launch()

    def _wait_ready(self, log: Path) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                break
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    pass
                if self._accepts_queries():
                    return
            except OSError:
                pass
            time.sleep(0.1)
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        self.stop()
        raise RuntimeError(f"PostgreSQL did not start:\n{tail}")

    def _accepts_queries(self) -> bool:
        async def probe() -> bool:
            try:
                connection = await asyncpg.connect(self.dsn("postgres"), timeout=2)
            except (OSError, asyncpg.PostgresError):
                return False
            await connection.close()
            return True

        return _run_outside_any_loop(probe())

    def stop(self) -> None:
        self._shut_down()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def _shut_down(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def dsn(self, database: str) -> str:
        """A plain libpq URL, for asyncpg."""
        if self._admin_url:
            # Keep the admin URL's host, credentials and query; swap only the database.
            parts = urlsplit(self._admin_url.replace("+asyncpg", "", 1))
            return urlunsplit(parts._replace(path=f"/{database}"))
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    def url(self, database: str) -> str:
        """A SQLAlchemy URL, for Keel."""
        # Whatever scheme the admin URL used (postgres://, postgresql://), Keel needs asyncpg.
        return urlunsplit(urlsplit(self.dsn(database))._replace(scheme="postgresql+asyncpg"))

    def create_database(self, name: str) -> None:
        self._admin(f'CREATE DATABASE "{name}"')

    def drop_database(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _admin(self, statement: str) -> None:
        """Synchronous, and safe to call while an event loop runs (fixtures do)."""

        async def run() -> None:
            connection = await asyncpg.connect(self.dsn("postgres"), timeout=10)
            try:
                await connection.execute(statement)
            finally:
                await connection.close()

        _run_outside_any_loop(run())


def _run_outside_any_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """Fixtures may be set up while pytest's event loop runs: use a thread of its own."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
