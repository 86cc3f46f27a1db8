"""A real `keel serve` names its attachment storage in /health/ready: ready on a writable
S3 bucket, 503 naming `storage` once the S3 server is gone or the directory cannot be
written, and the `keel_ready{check="storage"}` gauge follows."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.cli_support import keel_env, keel_server, sqlite_url_for
from tests.e2e.http_support import assert_envelope
from tests.e2e.jobs_support import wait_until
from tests.support.migrated import migrated
from tests.support.s3 import SECRET_ACCESS_KEY, S3Server

# A passing storage check is kept ten seconds; then the next probe finds the outage.
WITHIN = 25.0


@pytest.fixture
def own_s3_server() -> Iterator[S3Server]:
    """A server of this test's own, to stop under the running service."""
    server = S3Server()
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def migrated_sqlite(tmp_path: Path) -> str:
    url = sqlite_url_for(tmp_path / "keel.db")
    await migrated(url)
    return url


def storage_state(metrics: str) -> str | None:
    for line in metrics.splitlines():
        if line.startswith("keel_ready{") and 'check="storage"' in line:
            return line.rsplit(" ", 1)[1]
    return None


async def test_ready_on_a_bucket_and_503_naming_storage_once_s3_is_gone(
    tmp_path: Path, own_s3_server: S3Server
) -> None:
    bucket = own_s3_server.create_bucket("keel-ready")
    env = keel_env(
        tmp_path,
        await migrated_sqlite(tmp_path),
        STORAGE_URL=f"s3://{bucket}/attachments",
        **own_s3_server.environment(),
    )
    with keel_server(env=env, cwd=tmp_path) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=15) as client:
            ready = await client.get("/health/ready")
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"]["storage"] == "ok"
            assert storage_state((await client.get("/metrics")).text) == "1.0"

            await asyncio.to_thread(own_s3_server.stop)

            async def probe() -> httpx.Response:
                return await client.get("/health/ready")

            unready = await wait_until(
                "a 503", probe, lambda answer: answer.status_code == 503, within=WITHIN
            )
            error: dict[str, Any] = assert_envelope(unready, 503, "SERVICE_UNAVAILABLE")
            assert error["message"] == "Attachment storage is unavailable"
            # Refused connections, tried again with botocore's back-off: on a busy machine
            # the check's own deadline may come first.
            assert error["details"]["checks"]["storage"] in {
                "S3 endpoint unreachable",
                "S3 timed out",
            }
            assert error["details"]["checks"]["database"] == "ok"
            assert storage_state((await client.get("/metrics")).text) == "0.0"
    assert SECRET_ACCESS_KEY not in unready.text + server.output()


async def test_a_missing_bucket_is_named(tmp_path: Path, s3_server: S3Server) -> None:
    env = keel_env(
        tmp_path,
        await migrated_sqlite(tmp_path),
        STORAGE_URL="s3://keel-never-made/attachments",
        **s3_server.environment(),
    )
    with keel_server(env=env, cwd=tmp_path) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=15) as client:
            unready = await client.get("/health/ready")
        error = assert_envelope(unready, 503, "SERVICE_UNAVAILABLE")
        assert error["details"]["checks"]["storage"] == "S3 bucket does not exist"
        assert "storage not ready at start-up: S3 bucket does not exist" in server.output()


async def test_a_directory_that_cannot_be_written_is_named(tmp_path: Path) -> None:
    """A path under a regular file: no directory can be made there, even by root."""
    (tmp_path / "a-file").write_bytes(b"")
    env = keel_env(
        tmp_path,
        await migrated_sqlite(tmp_path),
        STORAGE_URL=f"file://{tmp_path}/a-file/blobs",
    )
    with keel_server(env=env, cwd=tmp_path) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=15) as client:
            unready = await client.get("/health/ready")
    error = assert_envelope(unready, 503, "SERVICE_UNAVAILABLE")
    assert error["details"]["checks"]["storage"].startswith("storage directory not writable")
    assert error["details"]["checks"]["database"] == "ok"
