"""Attachments through a real `keel serve` (SQLite, the local directory store): a 20 MiB
upload and download, in MB/s beside a plain copy of the same bytes to the same disk
(written and fsynced, as the store does), and the worker's RSS during the transfers.
``python -m bench.attachments [--mib N] [--runs N]``."""

# (S603: it starts the keel found beside this interpreter.)
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from bench.live import rss_mb, signed_up
from bench.processes import scratch_keel

MIB = 1024 * 1024
CHUNK = 256 * 1024
PNG = b"\x89PNG\r\n\x1a\n"
BOUNDARY = "keel-bench-boundary"


def plain_copy(source: Path, target: Path) -> float:
    """Seconds to copy ``source`` to ``target`` in the store's chunk size, then fsync."""
    started = time.perf_counter()
    with source.open("rb") as reading, target.open("wb") as writing:
        while chunk := reading.read(CHUNK):
            writing.write(chunk)
        writing.flush()
        os.fsync(writing.fileno())
    elapsed = time.perf_counter() - started
    target.unlink()
    return elapsed


async def from_file(path: Path) -> AsyncIterator[bytes]:
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="bench.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            yield chunk
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


class Sampler:
    """The worker's RSS every 20 ms, in a thread of its own."""

    def __init__(self, pid: int) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(pid,), daemon=True)

    def _run(self, pid: int) -> None:
        while not self._stop.is_set():
            self.samples.append(rss_mb(pid))
            time.sleep(0.02)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


async def measure(base: str, pid: int, payload: Path, size: int, runs: int) -> dict[str, float]:
    framing = len(b"".join([c async for c in from_file(Path(os.devnull))]))
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        headers = {"Authorization": f"Bearer {await signed_up(client, 'bench@example.com')}"}
        item = (await client.post("/api/v1/items", json={"title": "bench"}, headers=headers)).json()
        url = f"/api/v1/items/{item['id']}/attachments"
        upload_headers = {
            **headers,
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Content-Length": str(size + framing),
        }
        idle = rss_mb(pid)
        uploads, downloads = [], []
        with Sampler(pid) as sampler:
            for _ in range(runs):
                started = time.perf_counter()
                made = await client.post(url, content=from_file(payload), headers=upload_headers)
                uploads.append(time.perf_counter() - started)
                assert made.status_code == 201, made.text
                started = time.perf_counter()
                received = 0
                async with client.stream(
                    "GET", f"{url}/{made.json()['id']}", headers=headers
                ) as got:
                    async for chunk in got.aiter_raw():
                        received += len(chunk)
                downloads.append(time.perf_counter() - started)
                assert received == size
                await client.delete(f"{url}/{made.json()['id']}", headers=headers)
    mb = size / 1e6
    return {
        "upload_mb_s": mb / statistics.median(uploads),
        "download_mb_s": mb / statistics.median(downloads),
        "worker_rss_idle_mb": idle,
        "worker_rss_peak_mb": max(sampler.samples),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="keel-attachments-bench-", dir=".") as directory:
        root = Path(directory).resolve()
        payload = root / "payload.png"
        with payload.open("wb") as writing:
            writing.write(PNG)
            writing.write(os.urandom(options.mib * MIB - len(PNG)))
        copies = [plain_copy(payload, root / "copy") for _ in range(options.runs)]
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": directory,
            "ENVIRONMENT": "development",
            "DATABASE_URL": f"sqlite+aiosqlite:///{root}/keel.db",
            "STORAGE_URL": f"file://{root}/blobs",
            "ATTACHMENT_MAX_BYTES": str((options.mib + 1) * MIB),
            "JWT_SECRET": "bench-" + "x" * 40,
            "LOG_LEVEL": "WARNING",
        }
        with scratch_keel(env) as (base, pid):
            figures = asyncio.run(measure(base, pid, payload, payload.stat().st_size, options.runs))
    copy_mb_s = options.mib * MIB / 1e6 / statistics.median(copies)
    report = {"mib": options.mib, "runs": options.runs, "plain_copy_mb_s": copy_mb_s, **figures}
    print(
        json.dumps(
            {k: round(v, 1) if isinstance(v, float) else v for k, v in report.items()}, indent=2
        )
    )


if __name__ == "__main__":
    main()
