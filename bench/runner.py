"""One whole run: the servers started and seeded, every chosen scenario measured, the results
printed and written, and everything stopped again however the run ends."""

from __future__ import annotations

import json
import time

from bench.machine import machine_busy
from bench.processes import memory_of, read_text, worker_pid
from bench.pyspy import profile_users_me
from bench.record import Recorder
from bench.report import print_summary
from bench.scenarios import Scenarios
from bench.seed import check_same_answers, seed
from bench.settings import Config
from bench.stack import Stack
from bench.summary import summarise
from bench.wrk import Wrk


class Bench:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.stack = Stack(config)
        self.wrk = Wrk(config)
        self.recorder = Recorder()
        self.scenarios = Scenarios(config, self.stack, self.wrk, self.recorder)

    def run(self) -> int:
        config, stack, notes = self.config, self.stack, self.recorder.notes
        print(
            f"workdir {stack.workdir}; CPUs: servers {config.server_cpus or 'any'}, "
            f"wrk {config.client_cpus or 'any'}, PostgreSQL {config.pg_cpus or 'any'}",
            flush=True,
        )
        busy = machine_busy()
        print(
            f"machine load before starting: {busy:.2f} CPUs busy "
            f"(loadavg {read_text('/proc/loadavg').split(' ')[0]})",
            flush=True,
        )
        if busy > 0.2:
            notes.append(
                f"the machine was busy before the run ({busy:.2f} CPUs in use by other "
                "processes): figures are skewed; run again on a quiet machine"
            )
            print(f"warning: {notes[-1]}", flush=True)
        database_url = stack.start_postgres()
        stack.start_servers(database_url)
        assert stack.keel is not None
        assert stack.baseline is not None
        pid, pid_note = worker_pid(stack.keel.pid)
        print(
            f"Keel at {stack.keel_url} (worker: {pid_note}); baseline at {stack.baseline_url}",
            flush=True,
        )
        memory_at_start = {"keel": memory_of(pid), "baseline": memory_of(stack.baseline.pid)}
        seed(stack)
        check_same_answers(stack)
        started = time.monotonic()
        for scenario in config.scenarios:
            self.scenarios.run(scenario)
        profile = profile_users_me(self.scenarios) if config.profile else None
        stack.ensure_alive()
        memory = {
            "keel": memory_of(pid),
            "baseline": memory_of(stack.baseline.pid),
            "at_start": memory_at_start,
        }
        seconds = time.monotonic() - started
        results = summarise(config, self.recorder, memory, pid_note, profile, seconds, busy)
        print_summary(config, results)
        config.output.parent.mkdir(parents=True, exist_ok=True)
        config.output.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nresults written to {config.output}")
        missed = [t for t in results["targets"] if t["verdict"] == "MISS"]
        return 1 if (config.strict and missed) else 0

    def cleanup(self) -> None:
        self.wrk.kill_all()
        self.stack.stop()
