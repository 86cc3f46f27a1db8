"""A py-spy profile of Keel's worker under the users/me load (BENCH_PROFILE), and its summary:
where the serving thread spends its time."""

# ruff: noqa: S603
# (S603: it starts py-spy, BENCH_PYSPY's or the one found.)
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.processes import worker_pid
from bench.scenarios import Scenarios
from bench.settings import ROOT


def profile_users_me(scenarios: Scenarios) -> dict[str, Any] | None:
    """py-spy on the Keel worker while wrk loads users/me (a run of its own, not counted)."""
    config, stack = scenarios.config, scenarios.stack
    command = os.environ.get("BENCH_PYSPY")
    if command:
        pyspy = shlex.split(command)
    elif shutil.which("py-spy"):
        pyspy = ["py-spy"]
    else:
        uv = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
        pyspy = [uv, "tool", "run", "py-spy"]
    assert stack.keel is not None
    pid, _ = worker_pid(stack.keel.pid)
    raw = stack.workdir / "profile-users-me.txt"
    seconds = config.profile_seconds
    load = scenarios.load("users_me")
    wrk = scenarios.wrk.start(
        stack.keel_url,
        load,
        connections=config.connections,
        threads=config.threads,
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
    scenarios.wrk.finish(wrk, seconds + 3)
    if done.returncode != 0 or not raw.exists():
        scenarios.recorder.notes.append(f"py-spy failed: {done.stderr.strip()[-500:]}")
        print(f"py-spy failed: {done.stderr.strip()[-500:]}", flush=True)
        return None
    summary = summarise_profile(raw)
    keep = config.output.parent / "profile-users-me.txt"
    keep.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(raw, keep)
    summary["raw"] = str(keep)
    return summary


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
