"""The scenarios: each one's request, and how it is run (Keel against the baseline in
interleaved rounds, Keel's writes alone, or /health/live under a login flood)."""

from __future__ import annotations

import secrets
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

from bench.drain import drain, mails_logged
from bench.machine import cpu_busy, cpu_times
from bench.processes import worker_pid
from bench.record import Recorder
from bench.seed import current_etags
from bench.settings import (
    ITEM_BODY,
    ITEM_CHANGE,
    PASSWORD,
    REGISTER_BODY,
    RESET_BODY,
    RESET_KNOWN_EVERY,
    TRACED,
    WRITE_SCENARIOS,
    Config,
)
from bench.stack import Stack
from bench.wrk import Load, Wrk


@dataclass
class Scenarios:
    config: Config
    stack: Stack
    wrk: Wrk
    recorder: Recorder

    def run(self, scenario: str) -> None:
        if scenario == "health_login":
            self.health_during_logins()
        elif scenario in WRITE_SCENARIOS:
            self.keel_writes(scenario)
        elif scenario == TRACED:
            self.traced()
        else:
            self.compare(scenario)

    def load(self, scenario: str) -> Load:
        if scenario == "users_me":
            return Load("/api/v1/users/me", token=self.stack.token("reader"))
        if scenario == "items_page":
            return Load("/api/v1/items?page_size=20", token=self.stack.token("reader"))
        if scenario == "items_create":
            return Load(
                "/api/v1/items",
                method="POST",
                body=ITEM_BODY,
                content_type="application/json",
                token=self.stack.token("writer"),
            )
        if scenario == "items_update":
            # PATCH with If-Match as clients must send it: each item's latest ETag.
            return Load(
                "/api/v1/items",
                method="PATCH",
                body=ITEM_CHANGE,
                content_type="application/json",
                token=self.stack.token("writer"),
                items=lambda: current_etags(self.stack),
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
                known=tuple(self.stack.email(name) for name in ("reader", "writer", "login")),
                known_every=RESET_KNOWN_EVERY,
            )
        raise AssertionError(scenario)

    def compare(self, scenario: str) -> None:
        config = self.config
        assert self.stack.keel is not None
        assert self.stack.baseline is not None
        targets = (
            ("keel", self.stack.keel_url, worker_pid(self.stack.keel.pid)[0]),
            ("baseline", self.stack.baseline_url, self.stack.baseline.pid),
        )
        for round_no in range(1, config.rounds + 1):
            for server, base, pid in targets:
                load = self.load(scenario)
                self.stack.ensure_alive()
                result = self.wrk.measure(base, load, config, server_pid=pid)
                self.recorder.record(scenario, server, round_no, result)

    def traced(self) -> None:
        """users/me on Keel with tracing on (10 % sampled, exported to a local receiver)
        against Keel with it off, in interleaved rounds: both on the same CPUs and database,
        one loaded at a time."""
        self.stack.start_traced()
        assert self.stack.keel is not None
        assert self.stack.traced is not None
        targets = (
            ("keel", self.stack.keel_url, worker_pid(self.stack.keel.pid)[0]),
            ("traced", self.stack.traced_url, worker_pid(self.stack.traced.pid)[0]),
        )
        for round_no in range(1, self.config.rounds + 1):
            for server, base, pid in targets:
                self.stack.ensure_alive()
                load = self.load("users_me")
                result = self.wrk.measure(base, load, self.config, server_pid=pid)
                self.recorder.record(TRACED, server, round_no, result)
        receiver = self.stack.receiver
        assert receiver is not None
        if not receiver.spans():
            self.recorder.notes.append("users/me traced: the receiver got no spans")

    def keel_writes(self, scenario: str) -> None:
        """Registrations or reset requests, Keel alone. After every wrk run (the warm-up
        too) the run waits until Keel has done what the run left behind: hashes of
        registrations whose client wrk dropped at the end, and the mail jobs in the outbox.
        Otherwise the next run starts against a full hashing queue (503s), and work put off
        past the measured seconds would flatter the requests per second. The CPU the wait
        took is counted too (``cpu_ms_per_request_with_drain``)."""
        config = self.config
        assert self.stack.keel is not None
        pid = worker_pid(self.stack.keel.pid)[0]
        connections = config.register_connections if scenario == "register" else config.connections
        shape = {"connections": connections, "threads": min(config.threads, connections)}
        for round_no in range(1, config.rounds + 1):
            self.stack.ensure_alive()
            if config.warmup:
                self.wrk.run(
                    self.stack.keel_url, self.load(scenario), seconds=config.warmup, **shape
                )
                drain(self.stack, self.recorder.notes, pid)
            self.stack.ensure_alive()
            mail_offset = self.stack.keel.log_path.stat().st_size
            result = self.wrk.run(
                self.stack.keel_url,
                self.load(scenario),
                seconds=config.duration,
                server_pid=pid,
                **shape,
            )
            drained = drain(self.stack, self.recorder.notes, pid)
            result.update(drained)
            result["mails"] = mails_logged(self.stack, mail_offset)
            cpu_ms = result.get("server_cpu_ms_per_request")
            if cpu_ms is not None and result["requests"]:
                result["cpu_ms_per_request_with_drain"] = round(
                    cpu_ms + 1000 * drained["drain_cpu_s"] / result["requests"], 3
                )
            self.recorder.record(scenario, "keel", round_no, result)
            missing = result["mails"] < 2 * result["requests"]
            if scenario == "register" and config.jobs_in_process and missing:
                self.recorder.notes.append(
                    f"register round {round_no}: {result['mails']} mails logged for "
                    f"{result['requests']} registrations (a welcome and a verification each)"
                )

    def health_during_logins(self) -> None:
        config = self.config
        form = urllib.parse.urlencode({"username": self.stack.email("login"), "password": PASSWORD})
        login = Load(
            "/api/v1/auth/login",
            method="POST",
            body=form,
            content_type="application/x-www-form-urlencoded",
        )
        probe = Load("/health/live", delay_ms=config.probe_delay_ms)
        probe_threads = min(config.threads, config.probe_connections)
        assert self.stack.keel is not None
        pid = worker_pid(self.stack.keel.pid)[0]

        def run_probe() -> dict[str, Any]:
            return self.wrk.run(
                self.stack.keel_url,
                probe,
                connections=config.probe_connections,
                threads=probe_threads,
                seconds=config.duration,
                server_pid=pid,
            )

        # Reference: the same probe with Keel otherwise idle.
        self.stack.ensure_alive()
        idle = run_probe()
        self.recorder.record("health_idle", "keel", 1, idle)
        ramp = max(1, config.warmup)
        for round_no in range(1, config.rounds + 1):
            self.stack.ensure_alive()
            before = cpu_times()
            flood_seconds = ramp + config.duration + 2
            flood = self.wrk.start(
                self.stack.keel_url,
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
            self.recorder.record("health_login", "keel", round_no, result)
            # The logins in flight when wrk stopped still hold their places in the hashing
            # queue (some 0.6 s of work): a round started before they end would be answered
            # 503 (the queue is full) until they do.
            time.sleep(2)
