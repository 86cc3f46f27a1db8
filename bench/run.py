"""Keel's benchmark: Keel against a minimal baseline, on one machine, in one run.

``make bench`` (or ``.venv/bin/python bench/run.py``) starts a throwaway PostgreSQL, migrates it,
starts Keel (``keel serve``, one worker, production settings) and the baseline
(``bench/baseline.py``: Starlette + asyncpg, no middleware, uvicorn, one worker), seeds them,
checks that both answer the same JSON, then loads each in turn with ``wrk`` and prints
requests per second, p50 and p99, Keel's ratio to the baseline and PASS/MISS per target.
Everything it starts is stopped, and its temporary directories removed, however it ends
(Ctrl-C and SIGTERM included). See bench/README.md for what is measured and every knob.
"""

# ruff: noqa: S603, S607
# (S603, S607: this script starts wrk, taskset, git, keel and py-spy by name, as the tests do.)
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import re
import secrets
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from entrypoints.settings import Settings  # noqa: E402
from tests.support.postgres import PostgresServer, free_port  # noqa: E402

VENV_BIN = (
    ROOT / ".venv" / "bin"
    if (ROOT / ".venv" / "bin" / "keel").exists()
    else Path(sys.executable).parent
)
LUA = BENCH / "wrk" / "bench.lua"
PASSWORD = "quiet river benchmark 2026"  # noqa: S105 (a throwaway account's password)
ITEM_BODY = json.dumps({"title": "Benchmark item", "description": "Written by wrk"})
# "{email}" is replaced by wrk on every request (bench/wrk/bench.lua): a new address each time.
REGISTER_BODY = json.dumps(
    {"email": "{email}", "password": PASSWORD, "full_name": "Bench registrant"}
)
RESET_BODY = json.dumps({"email": "{email}"})
# One reset request in this many names a seeded account; the others an address no account has.
RESET_KNOWN_EVERY = 4
SCENARIOS = ("users_me", "items_page", "items_create", "health_login", "register", "reset_request")
# Keel alone (the baseline has no such routes), each run followed by a wait for the work it
# left behind: the hashes still running, the outbox's mail jobs.
WRITE_SCENARIOS = ("register", "reset_request")
COMPARED = ("users_me", "items_page", "items_create")
MAIL_LINES = (b"mail NOT delivered", b"mail written to the log instead of sent")
TARGETS = {
    "users_me_ratio": 0.6,  # Keel's requests per second / the baseline's, at least
    "items_page_ratio": 0.5,
    "health_p99_ms": 25.0,  # GET /health/live p99 during the login flood, below
    "rss_mib": 120.0,  # the Keel worker's VmRSS after the run, below
}


class BenchError(Exception):
    """A failure that ends the run with one readable line."""


# --------------------------------------------------------------------------- configuration


def _int(name: str, default: int, low: int = 1) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BenchError(f"{name}={raw!r}: expected an integer") from None
    if value < low:
        raise BenchError(f"{name}={raw!r}: must be at least {low}")
    return value


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _cpus(name: str, default: str | None) -> str | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if raw.lower() in ("none", "off", "-"):
        return None
    if not re.fullmatch(r"[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*", raw):
        raise BenchError(f"{name}={raw!r}: expected a CPU list such as 1 or 0,2-3")
    return raw


@dataclass
class Config:
    quick: bool
    duration: int
    warmup: int
    rounds: int
    connections: int
    threads: int
    items: int
    login_connections: int
    probe_connections: int
    probe_delay_ms: int
    pin: bool
    server_cpus: str | None
    client_cpus: str | None
    pg_cpus: str | None
    scenarios: list[str]
    output: Path
    keep_logs: bool
    profile: bool
    profile_seconds: int
    strict: bool
    login_rate_limit: str | None
    registration_rate_limit: str
    register_connections: int
    keel_dir: Path
    jobs_in_process: bool

    @classmethod
    def from_env(cls) -> Config:
        quick = _flag("BENCH_QUICK")
        ncpu = os.cpu_count() or 1
        pin = ncpu >= 2 and shutil.which("taskset") is not None and not _flag("BENCH_NO_PIN")
        # Default: the servers under test get the last CPU; wrk and PostgreSQL the others.
        server_default = str(ncpu - 1) if pin else None
        client_default = (f"0-{ncpu - 2}" if ncpu > 2 else "0") if pin else None
        scenarios = [
            s.strip()
            for s in os.environ.get("BENCH_SCENARIOS", ",".join(SCENARIOS)).split(",")
            if s.strip()
        ]
        unknown = [s for s in scenarios if s not in SCENARIOS]
        if unknown:
            raise BenchError(f"BENCH_SCENARIOS: unknown {unknown}; choose from {list(SCENARIOS)}")
        connections = _int("BENCH_CONNECTIONS", 32)
        keel_dir = Path(os.environ.get("BENCH_KEEL_DIR") or ROOT).resolve()
        if keel_dir != ROOT and not (keel_dir / ".venv" / "bin" / "keel").exists():
            raise BenchError(
                f"BENCH_KEEL_DIR={keel_dir}: no .venv/bin/keel there (run make install in it)"
            )
        threads = min(_int("BENCH_THREADS", 2), connections)
        return cls(
            quick=quick,
            duration=_int("BENCH_DURATION", 3 if quick else 10),
            warmup=_int("BENCH_WARMUP", 1 if quick else 3, low=0),
            rounds=_int("BENCH_ROUNDS", 1 if quick else 3),
            connections=connections,
            threads=threads,
            items=_int("BENCH_ITEMS", 1000, low=0),
            login_connections=_int("BENCH_LOGIN_CONNECTIONS", 16),
            probe_connections=_int("BENCH_PROBE_CONNECTIONS", 1),
            probe_delay_ms=_int("BENCH_PROBE_DELAY_MS", 10, low=0),
            pin=pin,
            server_cpus=_cpus("BENCH_SERVER_CPUS", server_default) if pin else None,
            client_cpus=_cpus("BENCH_CLIENT_CPUS", client_default) if pin else None,
            pg_cpus=_cpus("BENCH_PG_CPUS", client_default) if pin else None,
            scenarios=scenarios,
            output=Path(os.environ.get("BENCH_OUTPUT") or BENCH / "results" / "latest.json"),
            keep_logs=_flag("BENCH_KEEP_LOGS"),
            profile=_flag("BENCH_PROFILE"),
            profile_seconds=_int("BENCH_PROFILE_SECONDS", 10),
            strict=_flag("BENCH_STRICT"),
            # Every login attempt is counted before its hash, successes until they succeed:
            # the flood's concurrent logins to one account would be throttled at the default.
            login_rate_limit=os.environ.get("BENCH_LOGIN_RATE_LIMIT") or "1000000/minute",
            # Registrations are counted per client address, and wrk is one address.
            registration_rate_limit=os.environ.get("BENCH_REGISTRATION_RATE_LIMIT")
            or "1000000/minute",
            # Within the hashing queue (1 thread + 16 places by default): no 503s.
            register_connections=_int("BENCH_REGISTER_CONNECTIONS", 16),
            keel_dir=keel_dir,
            jobs_in_process=os.environ.get("BENCH_JOBS_IN_PROCESS", "0").strip().lower()
            not in ("0", "false", "no", "off"),
        )

    @property
    def keel_bin(self) -> Path:
        """The keel command of the tree under test: this one, or BENCH_KEEL_DIR's."""
        if self.keel_dir == ROOT:
            return VENV_BIN / "keel"
        return self.keel_dir / ".venv" / "bin" / "keel"


def taskset(cpus: str | None) -> list[str]:
    return ["taskset", "-c", cpus] if cpus else []


def cpu_set(cpus: str) -> set[int]:
    found: set[int] = set()
    for part in cpus.split(","):
        low, _, high = part.partition("-")
        found.update(range(int(low), int(high or low) + 1))
    return found


# --------------------------------------------------------------------------- processes


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
    pythons = [c for c in children if "python" in _read(f"/proc/{c}/comm") + _cmdline(c)]
    if pythons:
        return pythons[0], f"child {pythons[0]} of keel serve ({pid})"
    return pid, f"keel serve itself (pid {pid}, no worker child processes)"


def _read(path: str) -> str:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""


def _cmdline(pid: int) -> str:
    return _read(f"/proc/{pid}/cmdline").replace("\0", " ")


def memory_of(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS) in MiB, from /proc/PID/status."""
    found: dict[str, float] = {}
    for line in _read(f"/proc/{pid}/status").splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = round(int(value.split()[0]) / 1024, 1)
    return found


def process_cpu_seconds(pid: int | None) -> float:
    """User plus system CPU time of a process (all its threads), from /proc/PID/stat."""
    if pid is None:
        return 0.0
    text = _read(f"/proc/{pid}/stat")
    if not text:
        return 0.0
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy(seconds: float = 2.0) -> float:
    """How busy the whole machine is, in CPUs, over a short sample (before anything of ours
    runs): another job on the machine skews every figure."""
    before = cpu_times()
    time.sleep(seconds)
    after = cpu_times()
    return round(sum(float(v) for v in cpu_busy(before, after).values()) / 100, 2)


def cpu_times() -> dict[int, tuple[int, int]]:
    """Per CPU: (busy, total) jiffies from /proc/stat."""
    times: dict[int, tuple[int, int]] = {}
    for line in _read("/proc/stat").splitlines():
        if line.startswith("cpu") and line[3:4].isdigit():
            name, *fields = line.split()
            values = [int(v) for v in fields[:8]]
            idle = values[3] + values[4]
            times[int(name[3:])] = (sum(values) - idle, sum(values))
    return times


def cpu_busy(before: dict[int, tuple[int, int]], after: dict[int, tuple[int, int]]) -> dict:
    busy = {}
    for cpu, (b1, t1) in after.items():
        b0, t0 = before.get(cpu, (0, 0))
        busy[str(cpu)] = round(100 * (b1 - b0) / (t1 - t0), 1) if t1 > t0 else 0.0
    return busy


# --------------------------------------------------------------------------- wrk


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
            env={**os.environ, **load.env()},
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


# --------------------------------------------------------------------------- the run


@dataclass
class Bench:
    config: Config
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="keel-bench-")))
    postgres: PostgresServer | None = None
    keel: Service | None = None
    baseline: Service | None = None
    keel_url: str = ""
    baseline_url: str = ""
    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)
    runs: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.wrk = Wrk(self.config)
        self.secret = secrets.token_urlsafe(48)

    # -- set-up

    def start_postgres(self) -> str:
        config = self.config
        self.postgres = PostgresServer(private=True)
        # PostgreSQL inherits this process's CPUs (the postmaster forks every backend).
        everything = os.sched_getaffinity(0)
        if config.pg_cpus:
            os.sched_setaffinity(0, cpu_set(config.pg_cpus))
        try:
            self.postgres.start()
        finally:
            os.sched_setaffinity(0, everything)
        self.postgres.create_database("keel_bench")
        return self.postgres.url("keel_bench")

    def keel_env(self, database_url: str) -> dict[str, str]:
        env = dict(os.environ)
        # Nothing from the caller's Keel settings leaks in: production, as below, only.
        for name in [*Settings.model_fields, "prometheus_multiproc_dir", "prometheus_multiproc"]:
            env.pop(name.upper(), None)
            env.pop(name.lower(), None)
        env.update(
            ENVIRONMENT="production",
            JWT_SECRET=self.secret,
            DATABASE_URL=database_url,
            # As a production deployment sets them, so that every middleware is installed.
            TRUSTED_HOSTS="127.0.0.1,localhost",
            CORS_ORIGINS="https://app.example.com",
        )
        if self.config.login_rate_limit:
            env["LOGIN_RATE_LIMIT"] = self.config.login_rate_limit
        env["REGISTRATION_RATE_LIMIT"] = self.config.registration_rate_limit
        # As production runs it, jobs are left to `keel worker` (none runs here: the outbox
        # only fills). BENCH_JOBS_IN_PROCESS=1 runs them in the server, on the measured CPU,
        # as the embedded start does (and as mail ran before the outbox, in FastAPI's
        # background tasks). A tree without the setting ignores it.
        env["JOBS_IN_PROCESS"] = "true" if self.config.jobs_in_process else "false"
        return env

    def start_servers(self, database_url: str) -> None:
        env = self.keel_env(database_url)
        keel_bin = str(self.config.keel_bin)
        migrate = subprocess.run(
            [keel_bin, "migrate"], env=env, cwd=self.workdir, capture_output=True, text=True
        )
        if migrate.returncode != 0:
            raise BenchError(f"keel migrate failed:\n{migrate.stdout}{migrate.stderr}")
        cpus = taskset(self.config.server_cpus)
        keel_port, baseline_port = free_port(), free_port()
        self.keel = Service(
            "keel",
            [*cpus, keel_bin, "serve", "--host", "127.0.0.1", "--port", str(keel_port)],
            env,
            self.workdir,
        )
        baseline_command = [
            *cpus,
            str(VENV_BIN / "python"),
            "-m",
            "uvicorn",
            "baseline:app",
            "--app-dir",
            str(BENCH),
            "--host",
            "127.0.0.1",
            "--port",
            str(baseline_port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--no-server-header",
            "--log-level",
            "warning",
        ]
        self.baseline = Service("baseline", baseline_command, env, self.workdir)
        self.keel_url = f"http://127.0.0.1:{keel_port}"
        self.baseline_url = f"http://127.0.0.1:{baseline_port}"
        wait_http(self.keel_url + "/health/ready", self.keel)
        # The baseline has no health route: any answer from its own route will do.
        deadline = time.monotonic() + 60
        while True:
            if not self.baseline.alive():
                raise BenchError(f"baseline exited at start-up:\n{self.baseline.tail()}")
            try:
                if httpx.get(self.baseline_url + "/api/v1/users/me", timeout=2).status_code:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise BenchError(f"baseline did not start:\n{self.baseline.tail()}") from None
            time.sleep(0.2)

    def seed(self) -> None:
        """Three accounts, through Keel's API: ``reader`` owns BENCH_ITEMS items (users/me and
        the items page), ``writer`` gets the items the POST scenario creates (so the reader's
        count stays put), ``login`` is the account the login flood logs in to."""
        for name in ("reader", "writer", "login"):
            answer = httpx.post(
                self.keel_url + "/api/v1/users",
                json={
                    "email": self.email(name),
                    "password": PASSWORD,
                    "full_name": f"Bench {name}",
                },
                timeout=30,
            )
            if answer.status_code != 201:
                raise BenchError(f"registering {name}: {answer.status_code} {answer.text}")
        token = self.token("reader")

        async def create_items() -> None:
            headers = {"Authorization": f"Bearer {token}"}
            limit = asyncio.Semaphore(16)
            async with httpx.AsyncClient(base_url=self.keel_url, headers=headers) as client:

                async def one(n: int) -> None:
                    async with limit:
                        body = {"title": f"Item {n:05d}", "description": f"Seeded item number {n}"}
                        answer = await client.post("/api/v1/items", json=body, timeout=30)
                        if answer.status_code != 201:
                            raise BenchError(
                                f"seeding item {n}: {answer.status_code} {answer.text}"
                            )

                await asyncio.gather(*(one(n) for n in range(self.config.items)))

        started = time.monotonic()
        asyncio.run(create_items())
        print(f"seeded {self.config.items} items in {time.monotonic() - started:.1f} s", flush=True)

    @staticmethod
    def email(name: str) -> str:
        return f"bench-{name}@example.com"

    def token(self, name: str) -> str:
        """A fresh access token (they last 15 minutes; renewed after 5)."""
        cached = self.tokens.get(name)
        if cached and time.monotonic() - cached[1] < 300:
            return cached[0]
        answer = httpx.post(
            self.keel_url + "/api/v1/auth/login",
            data={"username": self.email(name), "password": PASSWORD},
            timeout=30,
        )
        if answer.status_code != 200:
            raise BenchError(f"login as {name}: {answer.status_code} {answer.text}")
        token = answer.json()["access_token"]
        self.tokens[name] = (token, time.monotonic())
        return token

    def check_same_answers(self) -> None:
        """Keel and the baseline must answer the same JSON, or the comparison means nothing."""
        headers = {"Authorization": f"Bearer {self.token('reader')}"}
        for path in ("/api/v1/users/me", "/api/v1/items?page_size=20"):
            keel = httpx.get(self.keel_url + path, headers=headers, timeout=10)
            base = httpx.get(self.baseline_url + path, headers=headers, timeout=10)
            if keel.status_code != 200 or base.status_code != 200 or keel.json() != base.json():
                raise BenchError(
                    f"Keel and the baseline answer {path} differently:\n"
                    f"keel {keel.status_code}: {keel.text[:600]}\n"
                    f"baseline {base.status_code}: {base.text[:600]}"
                )
        headers = {"Authorization": f"Bearer {self.token('writer')}"}
        created = {}
        for name, url in (("keel", self.keel_url), ("baseline", self.baseline_url)):
            answer = httpx.post(
                url + "/api/v1/items",
                content=ITEM_BODY,
                timeout=10,
                headers={**headers, "Content-Type": "application/json"},
            )
            if answer.status_code != 201:
                raise BenchError(
                    f"POST /api/v1/items on {name}: {answer.status_code} {answer.text}"
                )
            created[name] = answer.json()
        masked = [
            {k: v for k, v in body.items() if k not in ("id", "created_at", "updated_at")}
            for body in created.values()
        ]
        if masked[0] != masked[1] or list(created["keel"]) != list(created["baseline"]):
            raise BenchError(f"POST /api/v1/items answers differ: {created}")
        # And the baseline refuses what Keel refuses.
        bad = httpx.get(
            self.baseline_url + "/api/v1/users/me",
            headers={"Authorization": "Bearer x.y.z"},
            timeout=10,
        )
        if bad.status_code != 401:
            raise BenchError(f"the baseline accepted a bad token: {bad.status_code}")
        print("Keel and the baseline answer the same JSON (users/me, items page, item created)")

    # -- scenarios

    def load(self, scenario: str) -> Load:
        if scenario == "users_me":
            return Load("/api/v1/users/me", token=self.token("reader"))
        if scenario == "items_page":
            return Load("/api/v1/items?page_size=20", token=self.token("reader"))
        if scenario == "items_create":
            return Load(
                "/api/v1/items",
                method="POST",
                body=ITEM_BODY,
                content_type="application/json",
                token=self.token("writer"),
            )
        # A prefix of its own for every wrk run: addresses never repeat within the database.
        unique = f"{scenario.replace('_', '')}-{secrets.token_hex(4)}"
        if scenario == "register":
            return Load(
                "/api/v1/users",
                method="POST",
                body=REGISTER_BODY,
                content_type="application/json",
                unique=unique,
            )
        if scenario == "reset_request":
            return Load(
                "/api/v1/auth/password-reset/request",
                method="POST",
                body=RESET_BODY,
                content_type="application/json",
                unique=unique,
                known=tuple(self.email(name) for name in ("reader", "writer", "login")),
                known_every=RESET_KNOWN_EVERY,
            )
        raise AssertionError(scenario)

    def compare(self, scenario: str) -> None:
        config = self.config
        assert self.keel is not None
        assert self.baseline is not None
        targets = (
            ("keel", self.keel_url, worker_pid(self.keel.pid)[0]),
            ("baseline", self.baseline_url, self.baseline.pid),
        )
        for round_no in range(1, config.rounds + 1):
            for server, base, pid in targets:
                load = self.load(scenario)
                self.ensure_alive()
                result = self.wrk.measure(base, load, config, server_pid=pid)
                self.record(scenario, server, round_no, result)

    def keel_writes(self, scenario: str) -> None:
        """Registrations or reset requests, Keel alone. After every wrk run (the warm-up
        too) the run waits until Keel has done what the run left behind: hashes of
        registrations whose client wrk dropped at the end, and the mail jobs in the outbox.
        Otherwise the next run starts against a full hashing queue (503s), and work put off
        past the measured seconds would flatter the requests per second. The CPU the wait
        took is counted too (``cpu_ms_per_request_with_drain``)."""
        config = self.config
        assert self.keel is not None
        pid = worker_pid(self.keel.pid)[0]
        connections = config.register_connections if scenario == "register" else config.connections
        shape = {"connections": connections, "threads": min(config.threads, connections)}
        for round_no in range(1, config.rounds + 1):
            self.ensure_alive()
            if config.warmup:
                self.wrk.run(self.keel_url, self.load(scenario), seconds=config.warmup, **shape)
                self.drain(pid)
            self.ensure_alive()
            mail_offset = self.keel.log_path.stat().st_size
            result = self.wrk.run(
                self.keel_url,
                self.load(scenario),
                seconds=config.duration,
                server_pid=pid,
                **shape,
            )
            drained = self.drain(pid)
            result.update(drained)
            result["mails"] = self.mails_logged(mail_offset)
            cpu_ms = result.get("server_cpu_ms_per_request")
            if cpu_ms is not None and result["requests"]:
                result["cpu_ms_per_request_with_drain"] = round(
                    cpu_ms + 1000 * drained["drain_cpu_s"] / result["requests"], 3
                )
            self.record(scenario, "keel", round_no, result)
            missing = result["mails"] < 2 * result["requests"]
            if scenario == "register" and config.jobs_in_process and missing:
                self.notes.append(
                    f"register round {round_no}: {result['mails']} mails logged for "
                    f"{result['requests']} registrations (a welcome and a verification each)"
                )

    def drain(self, pid: int, timeout: float = 120) -> dict[str, Any]:
        """Wait until Keel's worker is idle and its outbox (if its tree has one) holds no
        waiting job; what was waiting when the load stopped, and the CPU the wait used."""
        assert self.postgres is not None
        dsn = self.postgres.dsn("keel_bench")
        poll = 0.25

        async def settle() -> dict[str, Any]:
            connection = await asyncpg.connect(dsn, timeout=10)
            try:
                has_outbox = await connection.fetchval("SELECT to_regclass('outbox') IS NOT NULL")
                # Three layouts: no outbox (mail sent by the request's process); an outbox
                # whose rows are the jobs (failed_at); an outbox relayed into procrastinate.
                has_failed_at = await connection.fetchval(
                    "SELECT EXISTS (SELECT 1 FROM information_schema.columns "
                    "WHERE table_name = 'outbox' AND column_name = 'failed_at')"
                )
                has_queue = await connection.fetchval(
                    "SELECT to_regclass('procrastinate_jobs') IS NOT NULL"
                )
                in_outbox = (
                    "SELECT count(*) FROM outbox WHERE failed_at IS NULL"
                    if has_failed_at
                    else "SELECT count(*) FROM outbox"
                )
                in_queue = (
                    "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
                )

                async def waiting() -> int:
                    if not has_outbox:
                        return 0
                    count = int(await connection.fetchval(in_outbox))
                    if has_queue:
                        count += int(await connection.fetchval(in_queue))
                    return count

                started, cpu_before = time.monotonic(), process_cpu_seconds(pid)
                backlog = left = await waiting()
                quiet = 0
                while quiet < 2 and time.monotonic() - started < timeout:
                    cpu = process_cpu_seconds(pid)
                    await asyncio.sleep(poll)
                    busy = (process_cpu_seconds(pid) - cpu) / poll
                    left = await waiting()
                    emptied = left == 0 or not self.config.jobs_in_process
                    quiet = quiet + 1 if emptied and busy < 0.1 else 0
                failed_sql = (
                    "SELECT count(*) FROM procrastinate_jobs WHERE status = 'failed'"
                    if has_queue
                    else "SELECT count(*) FROM outbox WHERE failed_at IS NOT NULL"
                    if has_failed_at
                    else None
                )
                failed = int(await connection.fetchval(failed_sql)) if failed_sql else None
                return {
                    "outbox_backlog": backlog if has_outbox else None,
                    "outbox_left": left if has_outbox else None,
                    "outbox_failed": failed,
                    "drain_s": round(time.monotonic() - started, 2),
                    "drain_cpu_s": round(process_cpu_seconds(pid) - cpu_before, 3),
                    "drained": quiet >= 2,
                }
            finally:
                await connection.close()

        drained = asyncio.run(settle())
        if not drained["drained"]:
            self.notes.append(
                f"Keel was still busy {timeout:.0f} s after a write run "
                f"({drained['outbox_left']} outbox jobs waiting)"
            )
        if drained["outbox_failed"]:
            self.notes.append(f"{drained['outbox_failed']} outbox jobs failed")
        return drained

    def mails_logged(self, offset: int) -> int:
        """Mails Keel wrote to its log (no SMTP_HOST here) since ``offset``."""
        assert self.keel is not None
        with open(self.keel.log_path, "rb") as log:
            log.seek(offset)
            text = log.read()
        return sum(text.count(line) for line in MAIL_LINES)

    def health_during_logins(self) -> None:
        config = self.config
        form = urllib.parse.urlencode({"username": self.email("login"), "password": PASSWORD})
        login = Load(
            "/api/v1/auth/login",
            method="POST",
            body=form,
            content_type="application/x-www-form-urlencoded",
        )
        probe = Load("/health/live", delay_ms=config.probe_delay_ms)
        probe_threads = min(config.threads, config.probe_connections)
        assert self.keel is not None
        pid = worker_pid(self.keel.pid)[0]

        def run_probe() -> dict[str, Any]:
            return self.wrk.run(
                self.keel_url,
                probe,
                connections=config.probe_connections,
                threads=probe_threads,
                seconds=config.duration,
                server_pid=pid,
            )

        # Reference: the same probe with Keel otherwise idle.
        self.ensure_alive()
        idle = run_probe()
        self.record("health_idle", "keel", 1, idle)
        ramp = max(1, config.warmup)
        for round_no in range(1, config.rounds + 1):
            self.ensure_alive()
            before = cpu_times()
            flood_seconds = ramp + config.duration + 2
            flood = self.wrk.start(
                self.keel_url,
                login,
                connections=config.login_connections,
                threads=min(config.threads, config.login_connections),
                seconds=flood_seconds,
            )
            time.sleep(ramp)
            result = run_probe()
            flood_result = self.wrk.finish(flood, flood_seconds)
            flood_result["cpu_busy_pct"] = cpu_busy(before, cpu_times())
            result["login_flood"] = flood_result
            self.record("health_login", "keel", round_no, result)
            # The logins in flight when wrk stopped still hold their places in the hashing
            # queue (some 0.6 s of work): a round started before they end would be answered
            # 503 (the queue is full) until they do.
            time.sleep(2)

    def record(self, scenario: str, server: str, round_no: int, result: dict[str, Any]) -> None:
        if scenario.startswith("health"):
            # The probe is paced and mostly idle: CPU per probe request means nothing.
            result.pop("server_cpu_ms_per_request", None)
        result = {"scenario": scenario, "server": server, "round": round_no, **result}
        self.runs.append(result)
        flood = result.get("login_flood")
        extra = ""
        if flood:
            extra = (
                f"  | logins {flood['rps']:.1f}/s p99 {flood['p99_ms']:.0f} ms"
                f" non-2xx {flood['non_2xx_3xx']}"
            )
        if "drain_s" in result:
            extra = (
                f"  | after: {result['drain_s']:.1f} s, outbox {result['outbox_backlog']},"
                f" mails {result['mails']},"
                f" CPU ms/req {result.get('cpu_ms_per_request_with_drain')} with it"
            )
        sockets = f"  socket errors {result['socket_errors']}" if result["socket_errors"] else ""
        cpu = " ".join(f"cpu{k} {v:.0f}%" for k, v in result["cpu_busy_pct"].items())
        if "server_cpu_pct" in result:
            cpu += f" {server} {result['server_cpu_pct']:.0f}%"
        print(
            f"{scenario:<13} {server:<9} round {round_no}: {result['rps']:>8.1f} req/s"
            f"  p50 {result['p50_ms']:>6.2f} ms  p99 {result['p99_ms']:>7.2f} ms"
            f"  non-2xx {result['non_2xx_3xx']}{sockets}"
            f"  [{cpu}]{extra}",
            flush=True,
        )
        if scenario in (*COMPARED, *WRITE_SCENARIOS) and 0 < result.get("server_cpu_pct", 100) < 85:
            self.notes.append(
                f"{scenario} {server} round {round_no}: the server had only "
                f"{result['server_cpu_pct']:.0f}% of a CPU under full load (something else "
                "ran on its CPU, or the load generator / PostgreSQL could not keep up)"
            )
        if result["non_2xx_3xx"] or result["socket_errors"] or (flood and flood["non_2xx_3xx"]):
            self.notes.append(f"{scenario} {server} round {round_no}: error answers, see runs")

    def ensure_alive(self) -> None:
        for service in (self.keel, self.baseline):
            if service is not None and not service.alive():
                raise BenchError(f"{service.name} stopped:\n{service.tail()}")

    # -- profile

    def profile_users_me(self) -> dict[str, Any] | None:
        """py-spy on the Keel worker while wrk loads users/me (a run of its own, not counted)."""
        command = os.environ.get("BENCH_PYSPY")
        if command:
            pyspy = shlex.split(command)
        elif shutil.which("py-spy"):
            pyspy = ["py-spy"]
        else:
            uv = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
            pyspy = [uv, "tool", "run", "py-spy"]
        assert self.keel is not None
        pid, _ = worker_pid(self.keel.pid)
        raw = self.workdir / "profile-users-me.txt"
        seconds = self.config.profile_seconds
        load = self.load("users_me")
        wrk = self.wrk.start(
            self.keel_url,
            load,
            connections=self.config.connections,
            threads=self.config.threads,
            seconds=seconds + 3,
        )
        time.sleep(1)
        done = subprocess.run(
            [
                *pyspy,
                "record",
                "--format",
                "raw",
                "-o",
                str(raw),
                "-p",
                str(pid),
                "-d",
                str(seconds),
            ],
            capture_output=True,
            text=True,
        )
        self.wrk.finish(wrk, seconds + 3)
        if done.returncode != 0 or not raw.exists():
            self.notes.append(f"py-spy failed: {done.stderr.strip()[-500:]}")
            print(f"py-spy failed: {done.stderr.strip()[-500:]}", flush=True)
            return None
        summary = summarise_profile(raw)
        keep = self.config.output.parent / "profile-users-me.txt"
        keep.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(raw, keep)
        summary["raw"] = str(keep)
        return summary

    # -- the whole run

    def run(self) -> int:
        config = self.config
        print(
            f"workdir {self.workdir}; CPUs: servers {config.server_cpus or 'any'}, "
            f"wrk {config.client_cpus or 'any'}, PostgreSQL {config.pg_cpus or 'any'}",
            flush=True,
        )
        busy = machine_busy()
        self.machine_busy_before = busy
        print(
            f"machine load before starting: {busy:.2f} CPUs busy "
            f"(loadavg {_read('/proc/loadavg').split(' ')[0]})",
            flush=True,
        )
        if busy > 0.2:
            self.notes.append(
                f"the machine was busy before the run ({busy:.2f} CPUs in use by other "
                "processes): figures are skewed; run again on a quiet machine"
            )
            print(f"warning: {self.notes[-1]}", flush=True)
        database_url = self.start_postgres()
        self.start_servers(database_url)
        assert self.keel is not None
        assert self.baseline is not None
        pid, pid_note = worker_pid(self.keel.pid)
        print(
            f"Keel at {self.keel_url} (worker: {pid_note}); baseline at {self.baseline_url}",
            flush=True,
        )
        memory_at_start = {"keel": memory_of(pid), "baseline": memory_of(self.baseline.pid)}
        self.seed()
        self.check_same_answers()
        started = time.monotonic()
        for scenario in config.scenarios:
            if scenario == "health_login":
                self.health_during_logins()
            elif scenario in WRITE_SCENARIOS:
                self.keel_writes(scenario)
            else:
                self.compare(scenario)
        profile = self.profile_users_me() if config.profile else None
        self.ensure_alive()
        memory = {
            "keel": memory_of(pid),
            "baseline": memory_of(self.baseline.pid),
            "at_start": memory_at_start,
        }
        results = self.summarise(memory, pid_note, profile, time.monotonic() - started)
        self.print_summary(results)
        config.output.parent.mkdir(parents=True, exist_ok=True)
        config.output.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nresults written to {config.output}")
        missed = [t for t in results["targets"] if t["verdict"] == "MISS"]
        return 1 if (config.strict and missed) else 0

    def cleanup(self) -> None:
        self.wrk.kill_all()
        for service in (self.keel, self.baseline):
            if service is not None:
                service.stop()
        if self.postgres is not None:
            self.postgres.stop()
        if self.config.keep_logs:
            print(f"logs kept in {self.workdir}")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # -- results

    def summarise(
        self,
        memory: dict[str, dict[str, float]],
        pid_note: str,
        profile: dict[str, Any] | None,
        seconds: float,
    ) -> dict[str, Any]:
        summary: dict[str, Any] = {}
        for scenario in (*self.config.scenarios, "health_idle"):
            for server in ("keel", "baseline"):
                runs = [r for r in self.runs if r["scenario"] == scenario and r["server"] == server]
                if not runs:
                    continue
                entry = {
                    key: round(statistics.median(r[key] for r in runs), 2)
                    for key in ("rps", "p50_ms", "p99_ms")
                }
                entry["rounds"] = len(runs)
                costs = [
                    r["server_cpu_ms_per_request"]
                    for r in runs
                    if r.get("server_cpu_ms_per_request")
                ]
                if costs:
                    entry["cpu_ms_per_request"] = round(statistics.median(costs), 3)
                if scenario == "health_login":
                    entry["login_rps"] = round(
                        statistics.median(r["login_flood"]["rps"] for r in runs), 1
                    )
                for key in ("cpu_ms_per_request_with_drain", "drain_s", "outbox_backlog"):
                    values = [r[key] for r in runs if r.get(key) is not None]
                    if values:
                        entry[key] = round(statistics.median(values), 3)
                if scenario in WRITE_SCENARIOS:
                    entry["mails"] = sum(r["mails"] for r in runs)
                    entry["errors"] = sum(
                        r["non_2xx_3xx"] + sum(r["socket_errors"].values()) for r in runs
                    )
                summary.setdefault(scenario, {})[server] = entry
            both = summary.get(scenario, {})
            if "keel" in both and "baseline" in both:
                # Each round's Keel run against the baseline run right after it: pairs taken
                # close together cancel slow drifts of the machine. The ratio is their median.
                keel_runs = [
                    r for r in self.runs if r["scenario"] == scenario and r["server"] == "keel"
                ]
                base_runs = [
                    r for r in self.runs if r["scenario"] == scenario and r["server"] == "baseline"
                ]
                per_round = [
                    round(k["rps"] / b["rps"], 3)
                    for k, b in zip(keel_runs, base_runs, strict=False)
                    if b["rps"]
                ]
                cpu_per_round = [
                    round(b["server_cpu_ms_per_request"] / k["server_cpu_ms_per_request"], 3)
                    for k, b in zip(keel_runs, base_runs, strict=False)
                    if k.get("server_cpu_ms_per_request") and b.get("server_cpu_ms_per_request")
                ]
                if cpu_per_round:
                    # Baseline CPU per request / Keel's: the ratio a saturated CPU would give.
                    both["cpu_ratio"] = round(statistics.median(cpu_per_round), 3)
                    both["cpu_ratio_per_round"] = cpu_per_round
                if per_round:
                    both["ratio"] = round(statistics.median(per_round), 3)
                    both["ratio_per_round"] = per_round
                    both["ratio_of_median_rps"] = (
                        round(both["keel"]["rps"] / both["baseline"]["rps"], 3)
                        if both["baseline"]["rps"]
                        else None
                    )
        targets = []

        def target(name: str, value: float | None, goal: float, *, at_least: bool) -> None:
            if value is None:
                verdict = "SKIP"
            else:
                verdict = "PASS" if (value >= goal if at_least else value < goal) else "MISS"
            targets.append(
                {
                    "target": name,
                    "value": value,
                    "goal": f"{'>=' if at_least else '<'} {goal}",
                    "verdict": verdict,
                }
            )

        target(
            "users/me rps ratio Keel/baseline",
            summary.get("users_me", {}).get("ratio"),
            TARGETS["users_me_ratio"],
            at_least=True,
        )
        target(
            "items page rps ratio Keel/baseline",
            summary.get("items_page", {}).get("ratio"),
            TARGETS["items_page_ratio"],
            at_least=True,
        )
        target(
            "/health/live p99 ms during login flood",
            summary.get("health_login", {}).get("keel", {}).get("p99_ms"),
            TARGETS["health_p99_ms"],
            at_least=False,
        )
        target(
            "Keel worker VmRSS MiB after the run",
            memory["keel"].get("VmRSS"),
            TARGETS["rss_mib"],
            at_least=False,
        )
        config = self.config
        return {
            "meta": machine_info(),
            "config": {
                "quick": config.quick,
                "duration_s": config.duration,
                "warmup_s": config.warmup,
                "rounds": config.rounds,
                "connections": config.connections,
                "threads": config.threads,
                "items": config.items,
                "login_connections": config.login_connections,
                "register_connections": config.register_connections,
                "scenarios": config.scenarios,
                "keel_dir": str(config.keel_dir),
                "keel_commit": git_commit(config.keel_dir),
                "probe_connections": config.probe_connections,
                "probe_delay_ms": config.probe_delay_ms,
                "cpus": {
                    "servers": config.server_cpus,
                    "wrk": config.client_cpus,
                    "postgresql": config.pg_cpus,
                },
                "keel_settings": "ENVIRONMENT=production, JWT_SECRET (64 chars), "
                "TRUSTED_HOSTS=127.0.0.1,localhost, CORS_ORIGINS=https://app.example.com, "
                "LOG_LEVEL default (INFO, JSON access log to a file)"
                + (
                    f", LOGIN_RATE_LIMIT={config.login_rate_limit}"
                    if config.login_rate_limit
                    else ""
                )
                + f", REGISTRATION_RATE_LIMIT={config.registration_rate_limit}"
                + f", JOBS_IN_PROCESS={str(config.jobs_in_process).lower()}",
                "keel_worker": pid_note,
            },
            "summary": summary,
            "memory_mib": memory,
            "targets": targets,
            "profile_users_me": profile,
            "notes": self.notes,
            "measured_seconds": round(seconds, 1),
            "machine_busy_cpus_before": getattr(self, "machine_busy_before", None),
            "runs": self.runs,
        }

    def print_summary(self, results: dict[str, Any]) -> None:
        summary = results["summary"]
        labels = {
            "users_me": "GET /api/v1/users/me",
            "items_page": "GET /api/v1/items?page_size=20",
            "items_create": "POST /api/v1/items",
            "health_idle": "GET /health/live, idle",
            "health_login": f"GET /health/live, {self.config.login_connections} clients logging in",
            "register": "POST /api/v1/users",
            "reset_request": "POST /api/v1/auth/password-reset/request",
        }
        print(
            "\n== medians over rounds "
            f"(wrk -t{self.config.threads} -c{self.config.connections} -d{self.config.duration}s,"
            f" {self.config.rounds} rounds) =="
        )
        print(
            f"{'scenario':<48} {'server':<9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}"
            f" {'CPU ms/req':>10}"
        )
        for scenario, label in labels.items():
            for server in ("keel", "baseline"):
                entry = summary.get(scenario, {}).get(server)
                if not entry:
                    continue
                cost = entry.get("cpu_ms_per_request")
                logins = entry.get("login_rps")
                print(
                    f"{label:<48} {server:<9} {entry['rps']:>9.1f} {entry['p50_ms']:>8.2f}"
                    f" {entry['p99_ms']:>8.2f} {'' if cost is None else f'{cost:.3f}':>10}"
                    + (f"   (logins {logins:.1f}/s)" if logins is not None else "")
                )
                if "cpu_ms_per_request_with_drain" in entry:
                    print(
                        f"{'':<48} {'':<9} CPU ms/req with the work left after the run"
                        f" {entry['cpu_ms_per_request_with_drain']:.3f}; outbox at the end"
                        f" {entry.get('outbox_backlog', 'n/a')},"
                        f" Keel idle again after {entry['drain_s']} s;"
                        f" mails {entry['mails']}; error answers {entry['errors']}"
                    )
            both = summary.get(scenario, {})
            if "ratio" in both:
                print(
                    f"{'':<48} {'ratio':<9} {both['ratio']:>9.3f}"
                    f"   rounds {both['ratio_per_round']}"
                )
            if "cpu_ratio" in both:
                print(
                    f"{'':<48} {'cpu ratio':<9} {both['cpu_ratio']:>9.3f}"
                    f"   rounds {both['cpu_ratio_per_round']} (baseline CPU/request over Keel's)"
                )
        memory = results["memory_mib"]
        print(
            f"\nRSS after the run (MiB): Keel worker {memory['keel']},"
            f" baseline {memory['baseline']}; at start, before any load: Keel"
            f" {memory['at_start']['keel'].get('VmRSS')}, baseline"
            f" {memory['at_start']['baseline'].get('VmRSS')}"
        )
        profile = results.get("profile_users_me")
        if profile:
            print(
                f"\npy-spy, Keel under users/me load, {profile['samples']} samples; "
                "top self time (leaf frame):"
            )
            for row in profile["top_self"][:15]:
                print(f"  {row['pct']:5.1f}%  {row['frame']}")
            print(
                "  self time by package: "
                + ", ".join(
                    f"{row['frame']} {row['pct']:.1f}%" for row in profile["self_by_package"][:12]
                )
            )
        print("\n== targets ==")
        for t in results["targets"]:
            value = "n/a" if t["value"] is None else f"{t['value']}"
            print(f"{t['verdict']:<5} {t['target']}: {value} (goal {t['goal']})")
        for note in results["notes"]:
            print(f"note: {note}")


def summarise_profile(raw: Path) -> dict[str, Any]:
    """py-spy's raw format: one collapsed stack a line, ``frame;frame;... count``.

    Only the serving thread counts: stacks rooted in ``Thread._bootstrap`` are the idle
    threads of thread pools (py-spy cannot tell they are idle here). SQLAlchemy's async
    layer runs queries in greenlets, whose stacks py-spy reports without the event loop's
    frames above them: they run on the serving thread and are counted."""
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    total = other_threads = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = [_short(f) for f in stack.split(";") if f]
        if not frames:
            continue
        if frames[0].startswith("Thread._bootstrap"):
            other_threads += n
            continue
        total += n
        self_time[frames[-1]] += n
        by_package[_package(frames[-1])] += n
        for frame in set(frames):
            inclusive[frame] += n

    def top(counter: Counter[str], limit: int = 25) -> list[dict[str, Any]]:
        return [
            {"frame": frame, "samples": n, "pct": round(100 * n / total, 1) if total else 0.0}
            for frame, n in counter.most_common(limit)
        ]

    return {
        "samples": total,
        "other_thread_samples": other_threads,
        "top_self": top(self_time),
        "self_by_package": top(by_package, 15),
        "top_inclusive": top(inclusive, 40),
    }


def _package(frame: str) -> str:
    """The top-level package (or standard-library module) of a frame's file."""
    match = re.search(r"\(([^():]+):\d+\)$", frame)
    if not match:
        return frame or "?"
    path = match.group(1)
    first = path.split("/", 1)[0]
    return first.removesuffix(".py") if "/" in path or path.endswith(".py") else path


def _short(frame: str) -> str:
    """``func (/long/path/site-packages/pkg/mod.py:12)`` -> ``func (pkg/mod.py:12)``."""
    return re.sub(r"\((?:[^()]*?(?:site-packages|lib/python3\.\d+)/)?", "(", frame).replace(
        str(ROOT) + "/", ""
    )


def machine_info() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    commit = git_commit(ROOT)
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    try:
        from tests.support.postgres import find_bindir

        pg = subprocess.run(
            [str(find_bindir() / "postgres"), "--version"], capture_output=True, text=True
        ).stdout.strip()
    except Exception:  # informative only
        pg = "unknown"
    mem_kib = next(
        (
            int(line.split()[1])
            for line in _read("/proc/meminfo").splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": platform.node(),
        "cpu": model,
        "cpus": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql": pg,
        "wrk": (wrk_version.stdout + wrk_version.stderr).split("Copyright")[0].strip(),
        "commit": commit,
    }


def git_commit(tree: Path) -> str:
    """A tree's commit, ``+changes`` when it has uncommitted changes to tracked files."""
    commit = subprocess.run(
        ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(tree), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return commit + ("+changes" if dirty else "")


def main() -> int:
    if not shutil.which("wrk"):
        print("error: wrk not found: run bench/ensure-wrk.sh (or `make bench`)", file=sys.stderr)
        return 1
    try:
        config = Config.from_env()
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    bench = Bench(config)

    def terminate(_signum: int, _frame: Any) -> None:
        # Handled as a Ctrl-C: asyncio.run then cancels its task cleanly, like the rest.
        os.kill(os.getpid(), signal.SIGINT)

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, terminate)
    try:
        return bench.run()
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: stopping everything", file=sys.stderr)
        return 130
    finally:
        # A second Ctrl-C must not leave servers behind: cleaning up is bounded anyway.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        bench.cleanup()


if __name__ == "__main__":
    sys.exit(main())
