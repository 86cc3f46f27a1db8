"""Live events under load: one `keel serve` worker (SQLite, its jobs in process) holding
1,000 idle authenticated sockets; its memory before and after, and the delay from a
``POST /api/v1/items`` to the event at a client. ``python -m bench.live [--sockets N]``."""

# (S603: it starts the keel found beside this interpreter; T201: it prints its report.)
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench.processes import scratch_keel

PASSWORD = "correct horse battery staple"  # noqa: S105 (a throwaway account)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def ready(url: str, token: str) -> ClientConnection:
    ws = await connect(url, max_size=2**16)
    await ws.send(json.dumps({"type": "auth", "token": token}))
    assert json.loads(await ws.recv()) == {"type": "ready"}
    return ws


async def signed_up(client: httpx.AsyncClient, email: str) -> str:
    account = {"email": email, "password": PASSWORD}
    assert (await client.post("/api/v1/users", json=account)).status_code == 201
    login = {"username": email, "password": PASSWORD}
    token: str = (await client.post("/api/v1/auth/login", data=login)).json()["access_token"]
    return token


async def measure(base: str, pid: int, sockets: int, posts: int) -> dict[str, float]:
    url = base.replace("http://", "ws://") + "/api/v1/ws"
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        token = await signed_up(client, "bench@example.com")
        idle_token = await signed_up(client, "idle@example.com")
        headers = {"Authorization": f"Bearer {token}"}
        await client.post("/api/v1/items", json={"title": "warm-up"}, headers=headers)
        await asyncio.sleep(1)
        idle = rss_mb(pid)
        # The idle sockets are another user's: they hear nothing, as idle clients would.
        held = [await ready(url, idle_token) for _ in range(sockets)]
        await asyncio.sleep(2)
        holding = rss_mb(pid)
        listener = await ready(url, token)
        delays = []
        for n in range(posts):
            started = time.perf_counter()
            made = await client.post("/api/v1/items", json={"title": f"p{n}"}, headers=headers)
            item_id = made.json()["id"]
            while json.loads(await listener.recv())["item_id"] != item_id:
                pass
            delays.append((time.perf_counter() - started) * 1000)
        for ws in [listener, *held]:
            await ws.close()
    delays.sort()
    return {
        "idle_mb": idle,
        "holding_mb": holding,
        "per_1000_sockets_mb": (holding - idle) * 1000 / sockets,
        "delay_p50_ms": statistics.median(delays),
        "delay_p99_ms": delays[int(len(delays) * 0.99) - 1],
        "delay_max_ms": delays[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--posts", type=int, default=300)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="keel-live-bench-") as directory:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": directory,
            "ENVIRONMENT": "development",
            "DATABASE_URL": f"sqlite+aiosqlite:///{directory}/keel.db",
            "JWT_SECRET": "bench-" + "x" * 40,
            "WS_MAX_CONNECTIONS_PER_USER": str(max(options.sockets, 1)),
            "LOG_LEVEL": "WARNING",
        }
        with scratch_keel(env) as (base, pid):
            figures = asyncio.run(measure(base, pid, options.sockets, options.posts))
    print(json.dumps({"sockets": options.sockets, **figures}, indent=2))


if __name__ == "__main__":
    main()
