"""The run's summary as printed at the end: medians, ratios, memory, profile, targets, notes."""

from __future__ import annotations

from typing import Any

from bench.settings import Config


def print_summary(config: Config, results: dict[str, Any]) -> None:
    summary = results["summary"]
    labels = {
        "users_me": "GET /api/v1/users/me",
        "items_page": "GET /api/v1/items?page_size=20",
        "items_create": "POST /api/v1/items",
        "items_update": "PATCH /api/v1/items/{id}",
        "users_me_traced": "GET /api/v1/users/me, traced (10 %) and not",
        "health_idle": "GET /health/live, idle",
        "health_login": f"GET /health/live, {config.login_connections} clients logging in",
        "register": "POST /api/v1/users",
        "reset_request": "POST /api/v1/auth/password-reset/request",
    }
    print(
        "\n== medians over rounds "
        f"(wrk -t{config.threads} -c{config.connections} -d{config.duration}s,"
        f" {config.rounds} rounds) =="
    )
    print(
        f"{'scenario':<48} {'server':<9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}"
        f" {'CPU ms/req':>10}"
    )
    for scenario, label in labels.items():
        for server in ("keel", "baseline", "traced"):
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
            print(f"{'':<48} {'ratio':<9} {both['ratio']:>9.3f}   rounds {both['ratio_per_round']}")
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
