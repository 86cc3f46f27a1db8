"""The servers under test and what they stand on: a throwaway PostgreSQL, Keel as production
runs it and the baseline, each started here and stopped however the run ends."""

# ruff: noqa: S603
# (S603: it runs the keel command of the tree under test.)
from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.processes import Service, wait_http
from bench.settings import (
    BENCH,
    PASSWORD,
    TRACED_SAMPLING,
    VENV_BIN,
    BenchError,
    Config,
    cpu_set,
    taskset,
)
from entrypoints.settings import Settings
from harness.otlp import OtlpReceiver
from harness.ports import free_port
from harness.postgres import PostgresServer


@dataclass
class Stack:
    config: Config
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="keel-bench-")))
    postgres: PostgresServer | None = None
    keel: Service | None = None
    baseline: Service | None = None
    traced: Service | None = None
    receiver: OtlpReceiver | None = None
    traced_url: str = ""
    keel_url: str = ""
    baseline_url: str = ""
    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)
    edited: list[str] = field(default_factory=list)  # the ids of the items PATCH changes
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(48))

    def start_postgres(self) -> str:
        config = self.config
        self.postgres = PostgresServer(private=True)
        # PostgreSQL inherits this process's CPUs (the postmaster forks every backend).
        everything = os.sched_getaffinity(0)
        if config.pg_cpus:
            os.sched_setaffinity(0, cpu_set(config.pg_cpus))
        try:
            self.postgres.start()
        finally:
            os.sched_setaffinity(0, everything)
        self.postgres.create_database("keel_bench")
        return self.postgres.url("keel_bench")

    def keel_env(self, database_url: str) -> dict[str, str]:
        env = dict(os.environ)
        # Nothing from the caller's Keel settings leaks in: production, as below, only.
        for name in [*Settings.model_fields, "prometheus_multiproc_dir", "prometheus_multiproc"]:
            env.pop(name.upper(), None)
            env.pop(name.lower(), None)
        env.update(
            ENVIRONMENT="production",
            JWT_SECRET=self.secret,
            DATABASE_URL=database_url,
            # As a production deployment sets them, so that every middleware is installed.
            TRUSTED_HOSTS="127.0.0.1,localhost",
            CORS_ORIGINS="https://app.example.com",
        )
        if self.config.login_rate_limit:
            env["LOGIN_RATE_LIMIT"] = self.config.login_rate_limit
        env["REGISTRATION_RATE_LIMIT"] = self.config.registration_rate_limit
        # As production runs it, jobs are left to `keel worker` (none runs here: the outbox
        # only fills). BENCH_JOBS_IN_PROCESS=1 runs them in the server, on the measured CPU,
        # as the embedded start does (and as mail ran before the outbox, in FastAPI's
        # background tasks). A tree without the setting ignores it.
        env["JOBS_IN_PROCESS"] = "true" if self.config.jobs_in_process else "false"
        return env

    def start_servers(self, database_url: str) -> None:
        env = self.keel_env(database_url)
        keel_bin = str(self.config.keel_bin)
        migrate = subprocess.run(
            [keel_bin, "migrate"], env=env, cwd=self.workdir, capture_output=True, text=True
        )
        if migrate.returncode != 0:
            raise BenchError(f"keel migrate failed:\n{migrate.stdout}{migrate.stderr}")
        cpus = taskset(self.config.server_cpus)
        keel_port, baseline_port = free_port(), free_port()
        self.keel = Service(
            "keel",
            [*cpus, keel_bin, "serve", "--host", "127.0.0.1", "--port", str(keel_port)],
            env,
            self.workdir,
        )
        baseline_command = [
            *cpus,
            str(VENV_BIN / "python"),
            "-m",
            "uvicorn",
            "baseline:app",
            "--app-dir",
            str(BENCH),
            "--host",
            "127.0.0.1",
            "--port",
            str(baseline_port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--no-server-header",
            # As ``keel serve`` runs uvicorn: without its X-Forwarded-* middleware (Keel reads
            # those headers itself, only from TRUSTED_PROXIES), which would cost the baseline
            # alone a layer per request.
            "--no-proxy-headers",
            "--log-level",
            "warning",
        ]
        self.baseline = Service("baseline", baseline_command, env, self.workdir)
        self.keel_url = f"http://127.0.0.1:{keel_port}"
        self.baseline_url = f"http://127.0.0.1:{baseline_port}"
        wait_http(self.keel_url + "/health/ready", self.keel)
        # The baseline has no health route: any answer from its own route will do.
        deadline = time.monotonic() + 60
        while True:
            if not self.baseline.alive():
                raise BenchError(f"baseline exited at start-up:\n{self.baseline.tail()}")
            try:
                if httpx.get(self.baseline_url + "/api/v1/users/me", timeout=2).status_code:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise BenchError(f"baseline did not start:\n{self.baseline.tail()}") from None
            time.sleep(0.2)

    def start_traced(self) -> None:
        """A second Keel like the first, on the same database, with tracing on: OTLP to a
        receiver in this process, a tenth of the traces sampled."""
        if self.traced is not None:
            return
        assert self.postgres is not None
        self.receiver = OtlpReceiver()
        self.receiver.start()
        env = self.keel_env(self.postgres.url("keel_bench"))
        env.update(
            OTEL_EXPORTER_OTLP_ENDPOINT=self.receiver.url,
            OTEL_TRACES_SAMPLER="parentbased_traceidratio",
            OTEL_TRACES_SAMPLER_ARG=TRACED_SAMPLING,
        )
        port = free_port()
        command = [*taskset(self.config.server_cpus), str(self.config.keel_bin), "serve"]
        command += ["--host", "127.0.0.1", "--port", str(port)]
        self.traced = Service("keel-traced", command, env, self.workdir)
        self.traced_url = f"http://127.0.0.1:{port}"
        wait_http(self.traced_url + "/health/ready", self.traced)

    @staticmethod
    def email(name: str) -> str:
        return f"bench-{name}@example.com"

    def token(self, name: str) -> str:
        """A fresh access token (they last 15 minutes; renewed after 5)."""
        cached = self.tokens.get(name)
        if cached and time.monotonic() - cached[1] < 300:
            return cached[0]
        answer = httpx.post(
            self.keel_url + "/api/v1/auth/login",
            data={"username": self.email(name), "password": PASSWORD},
            timeout=30,
        )
        if answer.status_code != 200:
            raise BenchError(f"login as {name}: {answer.status_code} {answer.text}")
        token: str = answer.json()["access_token"]
        self.tokens[name] = (token, time.monotonic())
        return token

    def ensure_alive(self) -> None:
        for service in (self.keel, self.baseline, self.traced):
            if service is not None and not service.alive():
                raise BenchError(f"{service.name} stopped:\n{service.tail()}")

    def stop(self) -> None:
        """Stop the servers and PostgreSQL, and remove the temporary directory (unless
        BENCH_KEEP_LOGS)."""
        for service in (self.keel, self.baseline, self.traced):
            if service is not None:
                service.stop()
        if self.receiver is not None:
            self.receiver.stop()
        if self.postgres is not None:
            self.postgres.stop()
        if self.config.keep_logs:
            print(f"logs kept in {self.workdir}")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)
