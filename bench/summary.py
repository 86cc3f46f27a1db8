"""The results of a run: medians over rounds, Keel's ratios to the baseline, the targets'
verdicts, and everything else the JSON results file holds."""

from __future__ import annotations

import statistics
from typing import Any

from bench.machine import git_commit, machine_info
from bench.record import Recorder
from bench.settings import TARGETS, TRACED, WRITE_SCENARIOS, Config


def summarise(
    config: Config,
    recorder: Recorder,
    memory: dict[str, Any],
    pid_note: str,
    profile: dict[str, Any] | None,
    seconds: float,
    machine_busy_before: float | None,
) -> dict[str, Any]:
    summary = medians(config, recorder.runs)
    targets = verdicts(summary, memory)
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
            + (f", LOGIN_RATE_LIMIT={config.login_rate_limit}" if config.login_rate_limit else "")
            + f", REGISTRATION_RATE_LIMIT={config.registration_rate_limit}"
            + f", JOBS_IN_PROCESS={str(config.jobs_in_process).lower()}",
            "keel_worker": pid_note,
        },
        "summary": summary,
        "memory_mib": memory,
        "targets": targets,
        "profile_users_me": profile,
        "notes": recorder.notes,
        "measured_seconds": round(seconds, 1),
        "machine_busy_cpus_before": machine_busy_before,
        "runs": recorder.runs,
    }


def medians(config: Config, all_runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per scenario and server, the medians over rounds; Keel's ratios to the baseline (for
    users/me traced: traced Keel's to Keel's)."""
    summary: dict[str, Any] = {}
    for scenario in (*config.scenarios, "health_idle"):
        for server in ("keel", "baseline", "traced"):
            runs = [r for r in all_runs if r["scenario"] == scenario and r["server"] == server]
            if not runs:
                continue
            entry = {
                key: round(statistics.median(r[key] for r in runs), 2)
                for key in ("rps", "p50_ms", "p99_ms")
            }
            entry["rounds"] = len(runs)
            costs = [
                r["server_cpu_ms_per_request"] for r in runs if r.get("server_cpu_ms_per_request")
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
        measured, reference = ("traced", "keel") if scenario == TRACED else ("keel", "baseline")
        if measured in both and reference in both:
            # Each round's Keel run against the baseline run right after it: pairs taken
            # close together cancel slow drifts of the machine. The ratio is their median.
            keel_runs = [
                r for r in all_runs if r["scenario"] == scenario and r["server"] == measured
            ]
            base_runs = [
                r for r in all_runs if r["scenario"] == scenario and r["server"] == reference
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
                    round(both[measured]["rps"] / both[reference]["rps"], 3)
                    if both[reference]["rps"]
                    else None
                )
    return summary


def verdicts(summary: dict[str, Any], memory: dict[str, Any]) -> list[dict[str, Any]]:
    """PASS, MISS or SKIP (not measured in this run) for each of TARGETS."""
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
        "users/me rps ratio traced (10 %)/untraced",
        summary.get(TRACED, {}).get("ratio"),
        TARGETS["traced_ratio"],
        at_least=True,
    )
    target(
        "items page rps ratio Keel/baseline",
        summary.get("items_page", {}).get("ratio"),
        TARGETS["items_page_ratio"],
        at_least=True,
    )
    target(
        "POST /items rps ratio Keel/baseline",
        summary.get("items_create", {}).get("ratio"),
        TARGETS["items_create_ratio"],
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
    return targets
