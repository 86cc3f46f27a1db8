"""What a hostile client can make a running server read and hold: head size, slow heads and
bodies, idle kept connections, and worker memory under many unfinished large heads.

    .venv/bin/python bench/bounds.py http://127.0.0.1:8000 [SERVER_PID]

Every probe is bounded in time and talks only to the given loopback address. With the
server's PID, the RSS of it and its child processes is read from /proc before and after the
memory probe. Prints one JSON object.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

LIMIT = 30.0  # no probe waits longer than this for the server to act


def connect(address: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(address, timeout=LIMIT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def answer(sock: socket.socket) -> str:
    """The status line the server sent, or how the connection ended."""
    try:
        data = sock.recv(65536)
    except ConnectionResetError:
        return "reset"
    except TimeoutError:
        return "no answer"
    if not data:
        return "closed"
    return data.split(b"\r\n", 1)[0].decode(errors="replace")


def header_of(address: tuple[str, int], size: int) -> str:
    with connect(address) as sock:
        head = f"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: {'a' * size}\r\n\r\n"
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(head.encode())
        return answer(sock)


def trickle(address: tuple[str, int], prefix: bytes, drip: bytes, every: float) -> dict[str, Any]:
    """Send ``prefix``, then one byte of ``drip`` every ``every`` seconds until the server
    ends the connection (or ``LIMIT`` passes)."""
    started = time.monotonic()
    with connect(address) as sock:
        sock.sendall(prefix)
        sock.settimeout(every)
        for byte in drip:
            if time.monotonic() - started > LIMIT:
                return {"cut_after_s": None}
            try:
                sock.sendall(bytes([byte]))
                data = sock.recv(4096)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                data = b""
            status = data.split(b"\r\n", 1)[0].decode(errors="replace")
            return {"cut_after_s": round(time.monotonic() - started, 1), "answer": status}
    return {"cut_after_s": None}


def idle_kept(address: tuple[str, int]) -> float | None:
    started = time.monotonic()
    with connect(address) as sock:
        sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        sock.recv(65536)
        started = time.monotonic()
        while time.monotonic() - started < LIMIT:
            try:
                if not sock.recv(65536):
                    return round(time.monotonic() - started, 1)
            except ConnectionResetError:
                return round(time.monotonic() - started, 1)
            except TimeoutError:
                break
    return None


def rss_mib(pid: int) -> dict[int, float]:
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    result = {}
    for one in pids:
        for line in Path(f"/proc/{one}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                result[one] = round(int(line.split()[1]) / 1024, 1)
    return result


def unfinished_heads(
    address: tuple[str, int], pid: int | None, clients: int = 30, mib: int = 40
) -> dict[str, Any]:
    """``clients`` connections each sending ``mib`` MiB of one header that never ends."""
    before = rss_mib(pid) if pid else {}
    outcomes: list[str] = []
    chunk = b"a" * 65536

    def one() -> None:
        try:
            with connect(address) as sock:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
                for _ in range(mib * 16):
                    sock.sendall(chunk)
                outcomes.append("all sent, " + answer(sock))
        except (BrokenPipeError, ConnectionResetError):
            outcomes.append("cut while sending")
        except TimeoutError:
            outcomes.append("stalled")

    threads = [threading.Thread(target=one, daemon=True) for _ in range(clients)]
    peak: dict[int, float] = {}
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + LIMIT * 2
    while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
        if pid:
            for key, value in rss_mib(pid).items():
                peak[key] = max(peak.get(key, 0.0), value)
        time.sleep(0.2)
    summary: dict[str, int] = {}
    for outcome in outcomes:
        summary[outcome] = summary.get(outcome, 0) + 1
    still_open = sum(t.is_alive() for t in threads)
    return {
        "rss_before_mib": before,
        "rss_peak_mib": peak,
        "rss_after_mib": rss_mib(pid) if pid else {},
        "outcomes": summary,
        "unfinished_after_s": still_open,
    }


def main() -> None:
    url = urlsplit(sys.argv[1])
    address = (url.hostname or "127.0.0.1", url.port or 80)
    pid = int(sys.argv[2]) if len(sys.argv) > 2 else None
    results = {
        "header_60_kib": header_of(address, 60 * 1024),
        "header_70_kib": header_of(address, 70 * 1024),
        "header_64_mib": header_of(address, 64 * 1024 * 1024),
        "slow_head": trickle(address, b"GET /health/live HTTP/1.1\r\n", b"X-A: b\r\n" * 20, 1.0),
        "slow_body": trickle(
            address,
            b"POST /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n",
            b"{" + b" " * 999,
            1.0,
        ),
        "idle_keep_alive_closed_after_s": idle_kept(address),
        "unfinished_heads": unfinished_heads(address, pid),
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
