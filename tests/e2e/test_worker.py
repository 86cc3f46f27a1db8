"""`keel worker` end to end: the API records the mail a change causes, with the change, and
a separate worker process sends it; a worker stopped with SIGTERM exits 0."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from adapters.sqlalchemy.migrations import AlembicMigrator
from tests.e2e.cli_support import KEEL, PASSWORD, keel_env, keel_server
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.postgres


def start_worker(env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(KEEL), "worker", "--concurrency", "2"],
        stdin=subprocess.DEVNULL,
        stdout=(cwd / "worker.log").open("wb"),
        stderr=subprocess.STDOUT,
        env=env,
        cwd=cwd,
    )


async def test_the_mail_a_registration_causes_is_sent_by_a_worker(
    tmp_path: Path, postgres_url: str, smtp_server: SmtpServer
) -> None:
    await asyncio.to_thread(AlembicMigrator(postgres_url).upgrade, "head")
    env = keel_env(
        tmp_path,
        postgres_url,
        SMTP_HOST=smtp_server.host,
        SMTP_PORT=str(smtp_server.port),
        SMTP_TLS="none",
    )
    with keel_server(env=env | {"JOBS_IN_PROCESS": "false"}, cwd=tmp_path) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=20) as client:
            created = await client.post(
                "/api/v1/users", json={"email": "ada@example.com", "password": PASSWORD}
            )
            assert created.status_code == 201, created.text
        await asyncio.sleep(1.0)
        assert smtp_server.received == []  # nobody runs the jobs yet; they wait
        worker = start_worker(env, tmp_path)
        try:
            received = await asyncio.to_thread(smtp_server.wait_for, 2, 20.0)
            subjects = sorted(r.message["Subject"] for r in received)
            assert subjects == ["Verify your email address for Keel", "Welcome to Keel"]
            assert all(r.rcpt_tos == ["ada@example.com"] for r in received)
        finally:
            worker.send_signal(signal.SIGTERM)
            started = time.monotonic()
            code = await asyncio.to_thread(worker.wait, 15)
        assert code == 0, (tmp_path / "worker.log").read_text()
        assert time.monotonic() - started < 12
