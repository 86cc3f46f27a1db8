"""Keel under each candidate HTTP server, in one run: throughput of ``GET /api/v1/users/me``
(wrk, interleaved rounds) and what each lets a hostile client do (``bench/bounds.py``).

    .venv/bin/python -m bench.servers      # from the repository's root

Candidates: ``keel serve`` as it ships (uvicorn, httptools behind Keel's bounded protocol),
uvicorn with plain httptools (no bounds: the reference), uvicorn with h11 and its incomplete
event limit, Granian and Hypercorn. Granian and Hypercorn are not Keel dependencies: a
candidate whose program is missing from .venv/bin is skipped (``uv pip install granian
hypercorn`` to measure them; ``make install`` removes them again). Each runs one worker with
production settings against one throwaway PostgreSQL, pinned like ``make bench`` pins Keel.
Knobs: BENCH_DURATION, BENCH_WARMUP, BENCH_ROUNDS, BENCH_CONNECTIONS, BENCH_THREADS,
BENCH_CANDIDATES (comma-separated names), BENCH_NO_BOUNDS=1 to skip the hostile probes.
"""

# ruff: noqa: S603
from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench.machine import machine_info
from bench.processes import Service, memory_of, wait_http
from bench.seed import seed
from bench.settings import BENCH, VENV_BIN, Config, taskset
from bench.stack import Stack
from bench.wrk import Load, Wrk
from harness.ports import free_port

FACTORY = "entrypoints.http.app:create_app_from_env"
UVICORN = ["-m", "uvicorn", "--factory", FACTORY, "--host", "127.0.0.1", "--loop", "uvloop"]
UVICORN_QUIET = ["--no-access-log", "--no-server-header", "--log-level", "warning"]


def keel(port: int, _work: Path) -> list[str]:
    return [str(VENV_BIN / "keel"), "serve", "--host", "127.0.0.1", "--port", str(port)]


def httptools(port: int, _work: Path) -> list[str]:
    python = str(VENV_BIN / "python")
    return [python, *UVICORN, "--http", "httptools", "--port", str(port), *UVICORN_QUIET]


def h11(port: int, _work: Path) -> list[str]:
    limit = ["--h11-max-incomplete-event-size", "65536"]
    python = str(VENV_BIN / "python")
    return [python, *UVICORN, "--http", "h11", *limit, "--port", str(port), *UVICORN_QUIET]


def granian(port: int, _work: Path) -> list[str]:
    return [
        str(VENV_BIN / "granian"),
        "--interface",
        "asgi",
        "--factory",
        "--loop",
        "uvloop",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--http",
        "1",
        "--http1-buffer-size",
        "65536",
        "--http1-header-read-timeout",
        "10000",
        "--log-level",
        "warning",
        FACTORY,
    ]


def hypercorn(port: int, work: Path) -> list[str]:
    config = work / "hypercorn.toml"
    config.write_text(
        f'bind = ["127.0.0.1:{port}"]\nh11_max_incomplete_size = 65536\nread_timeout = 10\n'
        'keep_alive_timeout = 5\nworker_class = "uvloop"\nloglevel = "WARNING"\n'
    )
    return [str(VENV_BIN / "hypercorn"), "--config", str(config), f"{FACTORY}()"]


CANDIDATES: dict[str, Callable[[int, Path], list[str]]] = {
    "keel serve (bounded httptools)": keel,
    "uvicorn httptools (no bounds)": httptools,
    "uvicorn h11 (64 KiB limit)": h11,
    "granian": granian,
    "hypercorn": hypercorn,
}


def probe_bounds(url: str, pid: int) -> dict[str, object]:
    result = subprocess.run(
        [str(VENV_BIN / "python"), str(BENCH / "bounds.py"), url, str(pid)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        return {"error": result.stderr[-2000:]}
    parsed: dict[str, object] = json.loads(result.stdout)
    return parsed


def main() -> int:
    # A stop (SIGTERM, or SIGINT when started in the background) still stops what it started.
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, _exit)
    config = Config.from_env()
    chosen = os.environ.get("BENCH_CANDIDATES")
    names = [n for n in CANDIDATES if not chosen or n.split(" ")[0] in chosen.split(",")]
    stack, wrk = Stack(config), Wrk(config)
    services: dict[str, tuple[Service, str]] = {}
    rps: dict[str, list[float]] = {name: [] for name in names}
    cpu_ms: dict[str, list[float]] = {name: [] for name in names}
    bounds: dict[str, object] = {}
    try:
        database_url = stack.start_postgres()
        env = stack.keel_env(database_url)
        migrate = subprocess.run(
            [str(VENV_BIN / "keel"), "migrate"], env=env, cwd=stack.workdir, check=False
        )
        assert migrate.returncode == 0
        for name in names:
            command = CANDIDATES[name](free_port(), stack.workdir)
            if not Path(command[0]).exists():
                print(f"skipped {name}: {command[0]} is not installed", flush=True)
                rps.pop(name)
                continue
            service = Service(
                name.split(" ")[0], [*taskset(config.server_cpus), *command], env, stack.workdir
            )
            url = f"http://127.0.0.1:{_port_of(command, stack.workdir)}"
            wait_http(url + "/health/live", service)
            services[name] = (service, url)
        first_url = next(iter(services.values()))[1]
        stack.keel_url = first_url
        config.items = 0
        seed(stack)
        load = Load("/api/v1/users/me", token=stack.token("reader"))
        for round_no in range(1, config.rounds + 1):
            for name, (service, url) in services.items():
                result = wrk.measure(url, load, config, server_pid=serving_process(service.pid))
                rps[name].append(result["rps"])
                cpu_ms[name].append(result.get("server_cpu_ms_per_request", 0.0))
                print(
                    f"round {round_no} {name}: {result['rps']} req/s, p99 "
                    f"{result['p99_ms']} ms, cpu {result.get('server_cpu_pct')} %, "
                    f"non-2xx {result['non_2xx_3xx']}",
                    flush=True,
                )
        if not os.environ.get("BENCH_NO_BOUNDS"):
            for name, (service, url) in services.items():
                bounds[name] = probe_bounds(url, service.pid)
                print(f"bounds of {name}: {json.dumps(bounds[name])}", flush=True)
    finally:
        for service, _ in services.values():
            service.stop()
        wrk.kill_all()
        stack.stop()
    reference = "uvicorn httptools (no bounds)"
    summary = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "median_rps": {name: statistics.median(v) for name, v in rps.items() if v},
        "median_cpu_ms_per_request": {
            name: statistics.median(v) for name, v in cpu_ms.items() if v
        },
        "bounds": bounds,
    }
    if rps.get(reference):
        summary["ratio_to_plain_httptools"] = {
            name: round(statistics.median(v) / statistics.median(rps[reference]), 3)
            for name, v in rps.items()
            if v
        }
    print(json.dumps(summary, indent=2))
    out = BENCH / "results" / "servers.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    return 0


def serving_process(pid: int) -> int:
    """The process that serves: the server's largest child (one worker; a resource tracker
    or a supervisor's helper is smaller), or the server itself when it has none."""
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(c) for c in (task / "children").read_text().split()]
    if not children:
        return pid
    return max(children, key=lambda child: memory_of(child).get("VmRSS", 0.0))


def _exit(_signum: int, _frame: object) -> None:
    raise SystemExit(1)


def _port_of(command: list[str], work: Path) -> str:
    if "--port" in command:
        return command[command.index("--port") + 1]
    text = (work / "hypercorn.toml").read_text()
    return text.split("127.0.0.1:", 1)[1].split('"', 1)[0]


if __name__ == "__main__":
    sys.exit(main())
