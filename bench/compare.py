"""Keel of another source tree (a reference: an older commit) against this one, by the bench.

    .venv/bin/python bench/compare.py REFERENCE_DIR [--pairs N] [--report-only]

REFERENCE_DIR is a checkout with its own ``.venv`` (``git worktree add /tmp/ref COMMIT``, then
``make install`` there). The runs alternate, reference then current, N pairs (2 by default),
each a whole ``python -m bench`` (its own PostgreSQL, its own Keel) with ``BENCH_KEEL_DIR``
set for the reference; ``BENCH_SCENARIOS`` defaults to ``register,reset_request`` and every
other ``BENCH_*`` variable reaches the bench as given. The results go to ``bench/results/compare/``;
the summary gives each side's medians over all its rounds and the ratio current / reference.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "results" / "compare"
SIDES = ("reference", "current")
METRICS = (
    ("rps", "req/s"),
    ("p50_ms", "p50 ms"),
    ("p99_ms", "p99 ms"),
    ("server_cpu_ms_per_request", "CPU ms/req"),
    ("cpu_ms_per_request_with_drain", "CPU ms/req, with the work left after the run"),
)
RUN_TIMEOUT = 3600  # seconds: a whole run, far above its few minutes


def run_once(side: str, pair: int, reference: Path) -> Path:
    output = OUT / f"{side}-{pair}.json"
    log = OUT / f"{side}-{pair}.log"
    env = dict(os.environ)
    env.setdefault("BENCH_SCENARIOS", "register,reset_request")
    env["BENCH_OUTPUT"] = str(output)
    if side == "reference":
        env["BENCH_KEEL_DIR"] = str(reference)
    else:
        env.pop("BENCH_KEEL_DIR", None)
    print(f"pair {pair}, {side}: running (log {log})", flush=True)
    with open(log, "w") as handle:
        done = subprocess.run(
            [sys.executable, "-m", "bench"],
            env=env,
            cwd=BENCH.parent,
            stdout=handle,
            stderr=subprocess.STDOUT,
            timeout=RUN_TIMEOUT,
            check=False,
        )
    if done.returncode != 0 or not output.exists():
        raise SystemExit(f"the bench failed ({done.returncode}); see {log}")
    return output


def report(files: dict[str, list[Path]]) -> dict[str, Any]:
    results = {side: [json.loads(f.read_text()) for f in files[side]] for side in SIDES}
    scenarios = [
        s for s in results["current"][0]["config"]["scenarios"] if not s.startswith("health")
    ]
    summary: dict[str, Any] = {
        "meta": results["current"][0]["meta"],
        "commits": {
            side: sorted({r["config"].get("keel_commit", "?") for r in results[side]})
            for side in SIDES
        },
        "runs": {side: [str(f) for f in files[side]] for side in SIDES},
        "scenarios": {},
        "notes": {side: [n for r in results[side] for n in r["notes"]] for side in SIDES},
    }
    for scenario in scenarios:
        entry: dict[str, Any] = {}
        for key, _ in METRICS:
            values = {
                side: [
                    run[key]
                    for r in results[side]
                    for run in r["runs"]
                    if run["scenario"] == scenario
                    and run["server"] == "keel"
                    and run.get(key) is not None
                ]
                for side in SIDES
            }
            if not all(values.values()):
                continue
            medians = {side: round(statistics.median(values[side]), 3) for side in SIDES}
            entry[key] = {
                **medians,
                "ratio": round(medians["current"] / medians["reference"], 3)
                if medians["reference"]
                else None,
                "rounds": {side: len(values[side]) for side in SIDES},
            }
        # Each pair's own ratio of median requests per second: runs close together share
        # the machine's state.
        entry["rps_ratio_per_pair"] = [
            round(c["summary"][scenario]["keel"]["rps"] / r["summary"][scenario]["keel"]["rps"], 3)
            for r, c in zip(results["reference"], results["current"], strict=False)
            if scenario in r["summary"] and scenario in c["summary"]
        ]
        entry["errors"] = {
            side: sum(r["summary"].get(scenario, {}).get("keel", {}).get("errors", 0) for r in rs)
            for side, rs in results.items()
        }
        summary["scenarios"][scenario] = entry
    return summary


def show(summary: dict[str, Any]) -> None:
    meta = summary["meta"]
    print(
        f"\n{meta['date']}, {meta['cpu']} ({meta['cpus']} CPUs), Linux {meta['kernel']}, "
        f"Python {meta['python']}; reference {summary['commits']['reference']}, "
        f"current {summary['commits']['current']}"
    )
    print(f"{'scenario / figure':<58} {'reference':>10} {'current':>10} {'ratio':>7}")
    for scenario, entry in summary["scenarios"].items():
        print(scenario)
        for key, label in METRICS:
            if key in entry:
                figures = entry[key]
                print(
                    f"  {label:<56} {figures['reference']:>10} {figures['current']:>10}"
                    f" {figures['ratio']:>7}"
                )
        print(
            f"  req/s ratio per pair {entry['rps_ratio_per_pair']}; error answers {entry['errors']}"
        )
    for side, notes in summary["notes"].items():
        for note in notes:
            print(f"note ({side}): {note}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reference", type=Path, help="the reference source tree, with .venv")
    parser.add_argument("--pairs", type=int, default=2, help="reference/current pairs of runs")
    parser.add_argument(
        "--report-only", action="store_true", help="summarise the results already there"
    )
    args = parser.parse_args()
    reference = args.reference.resolve()
    if not (reference / ".venv" / "bin" / "keel").exists():
        print(f"error: {reference} has no .venv/bin/keel (make install there)", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    files: dict[str, list[Path]] = {side: [] for side in SIDES}
    for pair in range(1, args.pairs + 1):
        for side in SIDES:
            path = OUT / f"{side}-{pair}.json"
            files[side].append(path if args.report_only else run_once(side, pair, reference))
    summary = report(files)
    show(summary)
    (OUT / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\nsummary written to {OUT / 'summary.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
