"""`keel serve --workers 2` with ENVIRONMENT=test and no JWT_SECRET: one signing secret for
the whole service, so that a token issued by one worker is accepted by the other."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from prometheus_client.multiprocess import MultiProcessCollector

from adapters.sqlalchemy.migrations import AlembicMigrator
from tests.e2e.cli_support import PASSWORD, keel_env, keel_server, sqlite_url_for

BURST = 24
ME = "/api/v1/users/me"


def _answers_by_worker(directory: Path, route: str) -> dict[str, dict[str, float]]:
    """For each worker process: how many answers to GET ``route`` it counted, by status. Every
    worker writes its counters to files of its own, named after its pid."""
    answers: dict[str, dict[str, float]] = {}
    for path in directory.glob("counter_*.db"):
        pid = path.stem.rsplit("_", 1)[1]
        for family in MultiProcessCollector.merge([str(path)], accumulate=True):
            for sample in family.samples:
                labels = sample.labels
                if (
                    sample.name == "keel_http_requests_total"
                    and labels.get("method") == "GET"
                    and labels.get("route") == route
                ):
                    by_status = answers.setdefault(pid, {})
                    by_status[labels["status"]] = by_status.get(labels["status"], 0) + sample.value
    return answers


def test_a_token_from_one_worker_works_on_the_other(tmp_path: Path) -> None:
    url = sqlite_url_for(tmp_path / "keel.db")
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(AlembicMigrator(url).upgrade).result()
    metrics = tmp_path / "metrics"
    env = keel_env(tmp_path, url, ENVIRONMENT="test", PROMETHEUS_MULTIPROC_DIR=str(metrics))
    assert "JWT_SECRET" not in env
    with keel_server(env=env, cwd=tmp_path, args=["--workers", "2"]) as server:
        email = "ada@example.com"
        registered = httpx.post(
            f"{server.base_url}/api/v1/users", json={"email": email, "password": PASSWORD}
        )
        assert registered.status_code == 201, registered.text
        login = httpx.post(
            f"{server.base_url}/api/v1/auth/login",
            data={"username": email, "password": PASSWORD},
        )
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}

        def me(_: int) -> int:
            # A new connection each time, so that either worker may take it.
            response = httpx.get(
                f"{server.base_url}{ME}", headers={**headers, "Connection": "close"}
            )
            return response.status_code

        # Which worker accepts a connection is the kernel's choice: burst until both have
        # answered the token, every time with a 200.
        deadline = time.monotonic() + 60
        while True:
            with ThreadPoolExecutor(max_workers=8) as pool:
                statuses = list(pool.map(me, range(BURST)))
            assert set(statuses) == {200}, statuses
            answers = _answers_by_worker(metrics, ME)
            if len(answers) == 2:
                break
            assert time.monotonic() < deadline, f"one worker answered everything: {answers}"
        assert all(set(by_status) == {"200"} for by_status in answers.values()), answers
        assert server.stop() == 0


def test_a_secret_one_worker_encrypts_the_other_decrypts(tmp_path: Path) -> None:
    """ENVIRONMENT=test and no ENCRYPTION_KEY: one key is made for the whole service. A TOTP
    secret set up on one worker is read on the other: a wrong code is a 422 there, never a
    500 from a secret no key of that worker opens."""
    url = sqlite_url_for(tmp_path / "keel.db")
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(AlembicMigrator(url).upgrade).result()
    env = keel_env(tmp_path, url, ENVIRONMENT="test", LOGIN_RATE_LIMIT="1000/minute")
    assert "ENCRYPTION_KEY" not in env
    with keel_server(env=env, cwd=tmp_path, args=["--workers", "2"]) as server:
        base, email = server.base_url, "ada@example.com"
        httpx.post(f"{base}/api/v1/users", json={"email": email, "password": PASSWORD})
        login = httpx.post(
            f"{base}/api/v1/auth/login", data={"username": email, "password": PASSWORD}
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        statuses = []
        for _ in range(BURST // 2):
            # A new connection for each request, so that either worker may take it.
            setup = httpx.post(f"{base}/api/v1/auth/mfa/totp/setup", headers=headers)
            assert setup.status_code == 200, setup.text
            confirm = httpx.post(
                f"{base}/api/v1/auth/mfa/totp/confirm", json={"code": "000000"}, headers=headers
            )
            statuses.append(confirm.status_code)
        assert set(statuses) == {422}, statuses
