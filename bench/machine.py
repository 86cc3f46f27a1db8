"""The machine the benchmark runs on: how busy its CPUs are, what it is, and the commit."""

# ruff: noqa: S603, S607
# (S603, S607: it asks wrk, git and postgres for their versions by name.)
from __future__ import annotations

import os
import platform
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.processes import read_text
from bench.settings import ROOT
from harness.postgres import find_bindir


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
    for line in read_text("/proc/stat").splitlines():
        if line.startswith("cpu") and line[3:4].isdigit():
            name, *fields = line.split()
            values = [int(v) for v in fields[:8]]
            idle = values[3] + values[4]
            times[int(name[3:])] = (sum(values) - idle, sum(values))
    return times


def cpu_busy(
    before: dict[int, tuple[int, int]], after: dict[int, tuple[int, int]]
) -> dict[str, float]:
    busy = {}
    for cpu, (b1, t1) in after.items():
        b0, t0 = before.get(cpu, (0, 0))
        busy[str(cpu)] = round(100 * (b1 - b0) / (t1 - t0), 1) if t1 > t0 else 0.0
    return busy


def machine_info() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in read_text("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    commit = git_commit(ROOT)
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    try:
        pg = subprocess.run(
            [str(find_bindir() / "postgres"), "--version"], capture_output=True, text=True
        ).stdout.strip()
    except Exception:  # informative only
        pg = "unknown"
    mem_kib = next(
        (
            int(line.split()[1])
            for line in read_text("/proc/meminfo").splitlines()
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
