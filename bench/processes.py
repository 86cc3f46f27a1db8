"""The processes the benchmark starts, and what /proc tells of them."""

# ruff: noqa: S603
# (S603: it starts the servers under test by the commands the run builds.)
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from bench.settings import BenchError
from harness.ports import free_port


class Service:
    """A server process of ours, in a session of its own (a Ctrl-C in the terminal reaches
    only the benchmark, which then stops it), its output in a log file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], cwd: Path) -> None:
        self.name = name
        self.log_path = cwd / f"{name}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (kept open while it runs)
        self.process = subprocess.Popen(
            command,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 25) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        # Anything left in its session (a worker the server forked) goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self._log.close()


def wait_http(url: str, service: Service, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not service.alive():
            raise BenchError(f"{service.name} exited at start-up:\n{service.tail()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise BenchError(
        f"{service.name} did not answer {url} within {timeout:.0f} s:\n{service.tail()}"
    )


def worker_pid(pid: int) -> tuple[int, str]:
    """The process that serves requests: ``keel serve --workers 1`` runs uvicorn in its own
    process; with more workers it would be a child."""
    children: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
            children += [int(c) for c in text.split()]
    pythons = [c for c in children if "python" in read_text(f"/proc/{c}/comm") + _cmdline(c)]
    if pythons:
        return pythons[0], f"child {pythons[0]} of keel serve ({pid})"
    return pid, f"keel serve itself (pid {pid}, no worker child processes)"


def read_text(path: str) -> str:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""


def _cmdline(pid: int) -> str:
    return read_text(f"/proc/{pid}/cmdline").replace("\0", " ")


def memory_of(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS) in MiB, from /proc/PID/status."""
    found: dict[str, float] = {}
    for line in read_text(f"/proc/{pid}/status").splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = round(int(value.split()[0]) / 1024, 1)
    return found


def process_cpu_seconds(pid: int | None) -> float:
    """User plus system CPU time of a process (all its threads), from /proc/PID/stat."""
    if pid is None:
        return 0.0
    text = read_text(f"/proc/{pid}/stat")
    if not text:
        return 0.0
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def scratch_keel(env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """A migrated `keel serve` of this checkout on a free port with ``env``, for the
    stand-alone benchmarks: its base URL and pid once it answers, stopped on the way out."""
    keel = Path(sys.executable).with_name("keel")
    subprocess.run([str(keel), "migrate"], env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [str(keel), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health/live").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)
