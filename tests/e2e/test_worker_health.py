"""What compose.yaml and deploy/k8s/worker.yaml ask of a running `keel worker`: with
production settings and WORKER_METRICS_PORT set it serves its metrics, so that the compose
health check (run here as written in compose.yaml) and the Kubernetes liveness probe pass;
SIGTERM then ends it with status 0 within the grace both files give it, even when it comes
as the worker starts (a rollout or a scale-down may stop a pod that has just begun)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from adapters.jobs.runner import STOP_GRACE_SECONDS
from tests.e2e.cli_support import KEEL, free_port, keel_env
from tests.support.migrated import migrated

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_METRICS_PORT = "9464"


def compose_healthcheck(port: int) -> list[str]:
    """The worker service's health check from compose.yaml, aimed at ``port``."""
    worker = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))["services"][
        "worker"
    ]
    assert worker["environment"]["WORKER_METRICS_PORT"] == COMPOSE_METRICS_PORT
    kind, program, *args = worker["healthcheck"]["test"]
    assert (kind, program) == ("CMD", "python")
    here = f":{port}/"
    return [sys.executable, *(arg.replace(f":{COMPOSE_METRICS_PORT}/", here) for arg in args)]


def healthy(check: list[str]) -> bool:
    return subprocess.run(check, capture_output=True, timeout=10, check=False).returncode == 0


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(KEEL), "worker", "--concurrency", "4"],
        stdin=subprocess.DEVNULL,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env=env,
        cwd=log.parent,
    )


def stop(worker: subprocess.Popen[bytes], log: Path) -> float:
    """SIGTERM; the seconds the worker took to exit 0 (it is killed if it takes too long)."""
    worker.send_signal(signal.SIGTERM)
    started = time.monotonic()
    try:
        code = worker.wait(STOP_GRACE_SECONDS + 5)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
        raise AssertionError("the worker did not exit after SIGTERM:\n" + log.read_text()) from None
    assert code == 0, log.read_text()
    return time.monotonic() - started


def production_env(tmp_path: Path, database_url: str, **extra: str) -> dict[str, str]:
    return keel_env(
        tmp_path,
        database_url,
        ENVIRONMENT="production",
        JWT_SECRET="s" * 48,
        ENCRYPTION_KEY="IupzHTMrOXaFMRE85WOTEYIcs3NDLK0WVQIWfYBM1Jc=",
        TRUSTED_HOSTS="localhost",
        JOBS_IN_PROCESS="false",
        **extra,
    )


async def test_a_production_worker_passes_its_health_check_and_stops_on_sigterm(
    tmp_path: Path, postgres_url: str
) -> None:
    await migrated(postgres_url)
    port = free_port()
    check = compose_healthcheck(port)
    env = production_env(tmp_path, postgres_url, WORKER_METRICS_PORT=str(port))
    assert not healthy(check), "the check passes with no worker: it checks nothing"
    log = tmp_path / "worker.log"
    worker = start_worker(env, log)
    try:
        deadline = time.monotonic() + 20
        while not healthy(check):
            assert worker.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "no metrics within 20 s"
            await asyncio.sleep(0.2)
        async with httpx.AsyncClient(timeout=5) as client:
            answer = await client.get(f"http://127.0.0.1:{port}/metrics")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/plain")
        assert "keel_jobs_oldest_due_seconds" in answer.text
    finally:
        took = await asyncio.to_thread(stop, worker, log)
    # compose.yaml and worker.yaml give it 30 s; with nothing in hand it needs far less.
    assert took < STOP_GRACE_SECONDS


async def test_a_worker_stopped_as_it_starts_exits_0(tmp_path: Path, postgres_url: str) -> None:
    """SIGTERM while the job queue's pool is still opening: the pool is closed too, or the
    process would wait for its connecting tasks until SIGKILL (it did in four tries of six)."""
    await migrated(postgres_url)
    env = production_env(tmp_path, postgres_url)
    for trial in range(5):
        log = tmp_path / f"worker-{trial}.log"
        worker = start_worker(env, log)
        deadline = time.monotonic() + 20
        while b"keel worker running" not in log.read_bytes():
            assert worker.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the worker did not start within 20 s"
            await asyncio.sleep(0.005)
        took = await asyncio.to_thread(stop, worker, log)
        assert took < STOP_GRACE_SECONDS
