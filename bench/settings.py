"""The benchmark's settings: the BENCH_* variables, read once, and the fixed choices."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
VENV_BIN = (
    ROOT / ".venv" / "bin"
    if (ROOT / ".venv" / "bin" / "keel").exists()
    else Path(sys.executable).parent
)
PASSWORD = "quiet river benchmark 2026"  # noqa: S105 (a throwaway account's password)
ITEM_BODY = json.dumps({"title": "Benchmark item", "description": "Written by wrk"})
ITEM_CHANGE = json.dumps({"title": "Benchmark item, changed"})
# The writer's items the PATCH scenario changes, each in flight on one connection at most.
EDITED_ITEMS = 128
# "{email}" is replaced by wrk on every request (bench/wrk/bench.lua): a new address each time.
REGISTER_BODY = json.dumps(
    {"email": "{email}", "password": PASSWORD, "full_name": "Bench registrant"}
)
RESET_BODY = json.dumps({"email": "{email}"})
# One reset request in this many names a seeded account; the others an address no account has.
RESET_KNOWN_EVERY = 4
SCENARIOS = (
    "users_me",
    "users_me_traced",
    "items_page",
    "items_create",
    "items_update",
    "health_login",
    "register",
    "reset_request",
)
# users/me on a second Keel with tracing on, sampling this share of traces, exporting to a
# local OTLP receiver; against the same Keel with tracing off.
TRACED = "users_me_traced"
TRACED_SAMPLING = "0.1"
# Keel alone (the baseline has no such routes), each run followed by a wait for the work it
# left behind: the hashes still running, the outbox's mail jobs.
WRITE_SCENARIOS = ("register", "reset_request")
COMPARED = ("users_me", "items_page", "items_create", "items_update")
MAIL_LINES = (b"mail NOT delivered", b"mail written to the log instead of sent")
TARGETS = {
    "users_me_ratio": 0.7,  # Keel's requests per second / the baseline's, at least
    "items_page_ratio": 0.6,
    "items_create_ratio": 0.5,
    "health_p99_ms": 25.0,  # GET /health/live p99 during the login flood, below
    "rss_mib": 120.0,  # the Keel worker's VmRSS after the run, below
    "traced_ratio": 0.9,  # users/me requests per second traced (10 %) / untraced, at least
}


class BenchError(Exception):
    """A failure that ends the run with one readable line."""


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
