"""wrk, the load generator: ``bench.lua`` beside this module sends the request described by
the ``WRK_*`` variables and prints its counts and latency percentiles as JSON when done."""

# ruff: noqa: S603
# (S603: it starts wrk, under taskset when pinned.)
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.machine import cpu_busy, cpu_times
from bench.processes import process_cpu_seconds
from bench.settings import BenchError, Config, taskset

LUA = Path(__file__).resolve().parent / "bench.lua"


@dataclass
class Load:
    """One wrk run's request."""

    path: str
    method: str = "GET"
    body: str = ""
    content_type: str = ""
    token: str = ""
    delay_ms: int = 0
    # A prefix makes every "{email}" of the body a new address on each request; every
    # known_every-th request takes one of the known addresses instead.
    unique: str = ""
    known: tuple[str, ...] = ()
    known_every: int = 0
    # Conditional writes: called before each wrk run (the warm-up moves the versions on),
    # it gives (item id, ETag) pairs; each request goes to path/<id> with If-Match.
    items: Callable[[], list[tuple[str, str]]] | None = None

    def env(self) -> dict[str, str]:
        return {
            "WRK_METHOD": self.method,
            "WRK_BODY": self.body,
            "WRK_CONTENT_TYPE": self.content_type,
            "WRK_AUTHORIZATION": f"Bearer {self.token}" if self.token else "",
            "WRK_DELAY_MS": str(self.delay_ms),
            "WRK_UNIQUE": self.unique,
            "WRK_KNOWN": ",".join(self.known),
            "WRK_KNOWN_EVERY": str(self.known_every),
            "WRK_ITEMS": ",".join(f"{item}={etag}" for item, etag in self.items())
            if self.items
            else "",
        }


class Wrk:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.running: list[subprocess.Popen[str]] = []

    def start(
        self, base: str, load: Load, *, connections: int, threads: int, seconds: int
    ) -> subprocess.Popen[str]:
        command = [
            *taskset(self.config.client_cpus),
            "wrk",
            f"-t{max(1, min(threads, connections))}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(LUA),
            base + load.path,
        ]
        process = subprocess.Popen(
            command,
            env={**os.environ, **load.env(), "WRK_THREADS": str(max(1, min(threads, connections)))},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.running.append(process)
        return process

    def finish(self, process: subprocess.Popen[str], seconds: int) -> dict[str, Any]:
        try:
            out, err = process.communicate(timeout=seconds + 60)
        finally:
            self.running.remove(process)
        line = next((x for x in out.splitlines() if x.startswith("BENCH_JSON ")), None)
        if process.returncode != 0 or line is None:
            raise BenchError(f"wrk failed ({process.returncode}):\n{out[-2000:]}\n{err[-2000:]}")
        raw = json.loads(line.removeprefix("BENCH_JSON "))
        lat = raw["latency_us"]
        errors = raw["errors"]
        seconds_run = raw["duration_us"] / 1e6
        return {
            "requests": raw["requests"],
            "seconds": round(seconds_run, 2),
            "rps": round(raw["requests"] / seconds_run, 1) if seconds_run else 0.0,
            "p50_ms": round(lat["p50"] / 1000, 2),
            "p90_ms": round(lat["p90"] / 1000, 2),
            "p99_ms": round(lat["p99"] / 1000, 2),
            "max_ms": round(lat["max"] / 1000, 2),
            "non_2xx_3xx": errors["status"],
            "socket_errors": {k: v for k, v in errors.items() if k != "status" and v},
        }

    def measure(
        self, base: str, load: Load, config: Config, server_pid: int | None = None
    ) -> dict[str, Any]:
        """A warm-up run (``config.warmup`` seconds, unrecorded), then the measured one."""
        shape = {"connections": config.connections, "threads": config.threads}
        if config.warmup:
            self.run(base, load, seconds=config.warmup, **shape)
        return self.run(base, load, seconds=config.duration, server_pid=server_pid, **shape)

    def run(
        self,
        base: str,
        load: Load,
        *,
        connections: int,
        threads: int,
        seconds: int,
        server_pid: int | None = None,
    ) -> dict[str, Any]:
        """One wrk run; also how busy each CPU was and how much CPU the server used."""
        before, server_before, t0 = cpu_times(), process_cpu_seconds(server_pid), time.monotonic()
        process = self.start(base, load, connections=connections, threads=threads, seconds=seconds)
        result = self.finish(process, seconds)
        elapsed = time.monotonic() - t0
        result["cpu_busy_pct"] = cpu_busy(before, cpu_times())
        if server_pid is not None:
            used = process_cpu_seconds(server_pid) - server_before
            result["server_cpu_pct"] = round(100 * used / elapsed, 1)
            # CPU cost per request: unlike requests per second, it hardly moves when other
            # programs take CPU time from the server (see "cpu ratio" in the summary).
            if result["requests"]:
                result["server_cpu_ms_per_request"] = round(1000 * used / result["requests"], 3)
        return result

    def kill_all(self) -> None:
        for process in list(self.running):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                process.communicate(timeout=5)
        self.running.clear()
