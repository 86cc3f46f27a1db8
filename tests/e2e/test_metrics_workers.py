"""``keel serve --workers 2``: every scrape, whichever worker answers it, counts every
request that any worker served."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from adapters.sqlalchemy.migrations import AlembicMigrator
from tests.e2e.cli_support import keel_env, keel_server, sqlite_url_for

REQUESTS = 40


def _ready_requests_counted(base_url: str) -> float:
    # A new connection each time, so that either worker may take it.
    text = httpx.get(f"{base_url}/metrics", headers={"Connection": "close"}).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "keel_http_requests_total" and sample.labels == {
                "method": "GET",
                "route": "/health/ready",
                "status": "200",
            }:
                return sample.value
    return 0.0


def _worker_pids(tmp_path: Path) -> set[str]:
    """The processes that have counted requests: one file of counters each."""
    return {path.stem.rsplit("_", 1)[1] for path in tmp_path.glob("keel-metrics-*/counter_*.db")}


def test_every_scrape_adds_up_all_the_workers(tmp_path: Path) -> None:
    url = sqlite_url_for(tmp_path / "keel.db")
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(AlembicMigrator(url).upgrade).result()
    # The temporary metrics directory goes where the test can look into it.
    env = keel_env(tmp_path, url, TMPDIR=str(tmp_path))
    with keel_server(env=env, cwd=tmp_path, args=["--workers", "2"]) as server:

        def ready(_: int) -> int:
            url = f"{server.base_url}/health/ready"
            return httpx.get(url, headers={"Connection": "close"}).status_code

        # Which worker accepts a connection is the kernel's choice, and a loaded machine may
        # give one worker a whole burst: burst until both have served.
        sent = 0
        deadline = time.monotonic() + 60
        while sent == 0 or len(_worker_pids(tmp_path)) < 2:
            assert time.monotonic() < deadline, "both workers should have served requests"
            with ThreadPoolExecutor(max_workers=8) as pool:
                assert set(pool.map(ready, range(REQUESTS))) == {200}
            sent += REQUESTS

        # A worker counts a request once its answer is sent, so the last few may reach the
        # counters a moment after the client has them.
        while _ready_requests_counted(server.base_url) < sent:
            assert time.monotonic() < deadline, "the counters never caught up"
            time.sleep(0.05)
        scrapes = [_ready_requests_counted(server.base_url) for _ in range(6)]
        assert scrapes == [sent] * 6
        assert server.stop() == 0
    assert not list(tmp_path.glob("keel-metrics-*")), "the run's metrics directory is removed"
