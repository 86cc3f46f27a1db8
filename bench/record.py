"""Every wrk run as it is measured: kept for the results, printed as one line, and noted
when its figures are suspect."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.settings import COMPARED, WRITE_SCENARIOS


@dataclass
class Recorder:
    runs: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

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
