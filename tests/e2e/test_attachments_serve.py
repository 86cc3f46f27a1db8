"""Attachments through a real `keel serve`: a server killed mid-upload leaves nothing the
clean-up does not remove, and a large upload does not grow the worker's memory."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from dependency_injector import providers
from sqlalchemy import func, select

from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.tables import attachment_uploads, attachments
from entrypoints.container import build_container, shutdown_container
from tests.e2e.attachments_support import PNG, BlobStorage, multipart
from tests.e2e.cli_support import PASSWORD, keel_env, keel_server
from tests.e2e.http_support import make_settings
from tests.support.clock import FixedClock
from tests.support.migrated import migrated

MIB = 1024 * 1024


async def signed_in_item(base_url: str) -> tuple[dict[str, str], str]:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        email = "ada@example.com"
        registered = await client.post("/api/v1/users", json={"email": email, "password": PASSWORD})
        assert registered.status_code == 201, registered.text
        login = await client.post(
            "/api/v1/auth/login", data={"username": email, "password": PASSWORD}
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        item = await client.post("/api/v1/items", json={"title": "files"}, headers=headers)
        return headers, item.json()["id"]


async def count(url: str, table: object) -> int:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            return int(
                (await connection.execute(select(func.count()).select_from(table))).scalar_one()
            )  # type: ignore[arg-type]
    finally:
        await engine.dispose()


def backdate(root: Path, by: timedelta) -> None:
    """What an hour's wait does to the files the adapter left (their age decides)."""
    then = time.time() - by.total_seconds()
    for folder, _, names in os.walk(root):
        for name in names:
            os.utime(Path(folder, name), (then, then))


async def test_a_server_killed_mid_upload_leaves_no_row_and_the_clean_up_the_rest(
    database_url: str, blob_storage: BlobStorage, tmp_path: Path
) -> None:
    await migrated(database_url)
    env = keel_env(tmp_path, database_url, **blob_storage.env)
    with keel_server(env=env, cwd=tmp_path) as server:
        headers, item_id = await signed_in_item(server.base_url)
        body, kind = multipart(PNG + bytes(4 * MIB))
        sent = asyncio.Event()

        async def half_then_hang() -> AsyncIterator[bytes]:
            yield body[: 512 * 1024]
            sent.set()
            await asyncio.Event().wait()  # the rest never comes: the server dies first
            yield body[512 * 1024 :]

        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
            uploading = asyncio.create_task(
                client.post(
                    f"/api/v1/items/{item_id}/attachments",
                    content=half_then_hang(),
                    headers={**headers, "Content-Type": kind, "Content-Length": str(len(body))},
                )
            )
            await sent.wait()
            for _ in range(100):  # the upload is under way: its bytes are reaching storage
                if blob_storage.stored():
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()
            # The client is still waiting to send the rest: it gives up.
            uploading.cancel()
            with contextlib.suppress(asyncio.CancelledError, httpx.TransportError):
                await uploading

    assert await count(database_url, attachments) == 0
    assert await count(database_url, attachment_uploads) == 1
    assert blob_storage.stored() != []  # the unfinished write

    root = Path(blob_storage.settings["storage_url"].removeprefix("file://"))
    backdate(root, timedelta(hours=2))
    settings = make_settings(database_url, **blob_storage.settings)
    container = build_container(settings)
    container.clock.override(
        providers.Object(FixedClock(datetime.now().astimezone() + timedelta(hours=2)))
    )
    try:
        removed = await container.remove_abandoned_uploads().execute()
    finally:
        await shutdown_container(container)
    assert removed.uploads + removed.leftovers >= 1
    assert await count(database_url, attachment_uploads) == 0
    assert blob_storage.stored() == []


def vm_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def watch(pid: int, samples: list[int], stop: threading.Event) -> threading.Thread:
    def run() -> None:
        while not stop.is_set():
            samples.append(vm_rss_kib(pid))
            time.sleep(0.02)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


async def test_a_50_mib_upload_and_download_do_not_grow_the_worker(
    sqlite_url: str, blob_storage: BlobStorage, tmp_path: Path
) -> None:
    sampler: list[int] = []
    await migrated(sqlite_url)
    env = keel_env(tmp_path, sqlite_url, **blob_storage.env, ATTACHMENT_MAX_BYTES=str(64 * MIB))
    with keel_server(env=env, cwd=tmp_path) as server:
        headers, item_id = await signed_in_item(server.base_url)
        url = f"{server.base_url}/api/v1/items/{item_id}/attachments"
        size = 50 * MIB
        head, kind = multipart(b"")
        prefix, suffix = head[: head.index(b"\r\n--keel")], head[head.index(b"\r\n--keel") :]

        async def body() -> AsyncIterator[bytes]:
            yield prefix + PNG
            left = size - len(PNG)
            while left:
                step = min(left, 256 * 1024)
                left -= step
                yield bytes(step)
            yield suffix

        async with httpx.AsyncClient(timeout=60) as client:
            small, _ = multipart(PNG)
            warm = await client.post(url, content=small, headers={**headers, "Content-Type": kind})
            assert warm.status_code == 201, warm.text  # everything an upload needs is loaded
            await asyncio.sleep(0.5)
            before = vm_rss_kib(server.process.pid)
            stop = threading.Event()
            thread = watch(server.process.pid, sampler, stop)
            length = len(prefix) + size + len(suffix)
            created = await client.post(
                url,
                content=body(),
                headers={**headers, "Content-Type": kind, "Content-Length": str(length)},
            )
            assert created.status_code == 201, created.text
            assert created.json()["size"] == size
            received = 0
            async with client.stream(
                "GET", f"{url}/{created.json()['id']}", headers=headers
            ) as download:
                assert download.status_code == 200
                async for chunk in download.aiter_bytes():
                    received += len(chunk)
            stop.set()
            thread.join()
        assert received == size
        growth_mib = (max(sampler) - before) / 1024
        print(f"worker RSS {before / 1024:.1f} MiB before, grew {growth_mib:.1f} MiB at most")
        assert growth_mib < 8, f"RSS grew by {growth_mib:.1f} MiB during 50 MiB each way"


async def test_a_client_closing_mid_upload_leaves_nothing(
    database_url: str, blob_storage: BlobStorage, tmp_path: Path
) -> None:
    await migrated(database_url)
    env = keel_env(tmp_path, database_url, **blob_storage.env)
    with keel_server(env=env, cwd=tmp_path) as server:
        headers, item_id = await signed_in_item(server.base_url)
        body, kind = multipart(PNG + bytes(2 * MIB))
        port = int(server.base_url.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        head = (
            f"POST /api/v1/items/{item_id}/attachments HTTP/1.1\r\n"
            f"Host: 127.0.0.1\r\nAuthorization: {headers['Authorization']}\r\n"
            f"Content-Type: {kind}\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        writer.write(head + body[:MIB])
        await writer.drain()
        for _ in range(100):  # under way: its record is committed, its bytes arriving
            if await count(database_url, attachment_uploads) == 1 and blob_storage.stored():
                break
            await asyncio.sleep(0.05)
        writer.close()
        await writer.wait_closed()
        for _ in range(200):
            if not blob_storage.stored() and await count(database_url, attachment_uploads) == 0:
                break
            await asyncio.sleep(0.05)
        assert blob_storage.stored() == []
        assert await count(database_url, attachment_uploads) == 0
        assert await count(database_url, attachments) == 0
        del reader
