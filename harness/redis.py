"""A throwaway redis-server for the test session, on a free loopback port, nothing on disk.
``KEEL_TEST_REDIS_URL`` points the tests at an existing server instead."""

# ruff: noqa: S603
# (S603: it starts the redis-server found on this machine.)
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from harness.ports import free_port
from harness.processes import stop_process


class RedisServer:
    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._dir: Path | None = None
        self._url = os.environ.get("KEEL_TEST_REDIS_URL")
        self.port = 0

    def start(self) -> None:
        if self._url:
            return
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server not found: run `make servers` (installs it)")
        self._dir = Path(tempfile.mkdtemp(prefix="keel-redis-"))
        self.port = free_port()
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--dir", str(self._dir), "--daemonize", "no"]
        log = open(self._dir / "server.log", "wb")  # noqa: SIM115 (kept open for the server)
        self._process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        tail = (self._dir / "server.log").read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"redis-server did not start:\n{tail}")

    def url(self, database: int = 0) -> str:
        if self._url:
            return self._url
        return f"redis://127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        stop_process(self._process)
        self._process = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
