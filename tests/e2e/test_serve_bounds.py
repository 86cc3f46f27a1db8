"""``keel serve --workers 2`` bounds what a client makes it read: heads over 64 KiB are refused,
a head or body that trickles in is cut off, an idle kept connection is closed, and many
unfinished large heads leave the workers' memory where it was."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from adapters.sqlalchemy.migrations import AlembicMigrator
from tests.e2e.cli_support import Server, keel_env, keel_server, sqlite_url_for

HEAD_TIMEOUT = 2.0
BODY_TIMEOUT = 2.0
KEEP_ALIVE = 1
SLACK = 2.0  # a loaded machine's delay in noticing the cut, on top of each timeout
KIB = 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp_path = tmp_path_factory.mktemp("bounds")
    url = sqlite_url_for(tmp_path / "keel.db")
    AlembicMigrator(url).upgrade()
    env = keel_env(
        tmp_path,
        url,
        HTTP_HEAD_TIMEOUT_SECONDS=str(HEAD_TIMEOUT),
        HTTP_BODY_TIMEOUT_SECONDS=str(BODY_TIMEOUT),
        HTTP_KEEP_ALIVE_SECONDS=str(KEEP_ALIVE),
    )
    with keel_server(env=env, cwd=tmp_path, args=["--workers", "2"]) as running:
        yield running
        assert "Traceback" not in running.output()


def connect(server: Server) -> socket.socket:
    port = int(server.base_url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (or 10 s pass); b"" for a reset."""
    received = bytearray()
    deadline = time.monotonic() + 10
    with contextlib.suppress(ConnectionResetError):
        while time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    return bytes(received)


def get_with_header(server: Server, size: int) -> bytes:
    with connect(server) as sock:
        head = (
            "GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            f"X-Big: {'a' * size}\r\n\r\n"
        )
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(head.encode())
        return read_answer(sock)


def test_a_head_over_64_kib_is_refused_and_one_of_60_kib_is_served(server: Server) -> None:
    # Several connections each, so that both workers are asked.
    for _ in range(6):
        served = get_with_header(server, 60 * KIB)
        assert served.startswith(b"HTTP/1.1 200 "), served[:200]
        refused = get_with_header(server, 70 * KIB)
        if refused:  # answered before closing: a 431 in the error envelope
            assert refused.startswith(b"HTTP/1.1 431 "), refused[:200]
            body = json.loads(refused.split(b"\r\n\r\n", 1)[1])
            assert body["error"]["code"] == "HTTP_ERROR"
            assert body["error"]["request_id"]


def cut_off_after(sock: socket.socket, drip: bytes, limit: float) -> float | None:
    """Send ``drip`` a byte a second until the server ends the connection; the seconds that
    took, or None if it had not after ``limit`` seconds."""
    started = time.monotonic()
    sock.settimeout(1.0)
    for byte in drip:
        if time.monotonic() - started > limit:
            return None
        try:
            sock.sendall(bytes([byte]))
            if sock.recv(65536) == b"":
                return time.monotonic() - started
            return time.monotonic() - started  # an answer: a 408, then the close
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            return time.monotonic() - started
    return None


def test_a_head_that_trickles_in_is_cut_off(server: Server) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /health/live HTTP/1.1\r\n")
        took = cut_off_after(sock, b"X-Slow: " + b"a" * 60, HEAD_TIMEOUT + SLACK + 2)
    assert took is not None, "a head sent a byte a second was waited for"
    assert took < HEAD_TIMEOUT + SLACK, took


def test_a_body_that_trickles_in_is_cut_off(server: Server) -> None:
    body = json.dumps({"email": "slow@example.com", "password": "x" * 20, "full_name": "S"})
    head = (
        "POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    with connect(server) as sock:
        sock.sendall(head.encode())
        took = cut_off_after(sock, body.encode(), BODY_TIMEOUT + SLACK + 2)
    assert took is not None, "a body sent a byte a second was waited for"
    assert took < BODY_TIMEOUT + SLACK, took
    # Sent at once, the same request is read and answered.
    answered = httpx.post(
        f"{server.base_url}/api/v1/users",
        content=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert answered.status_code == 201, answered.text


def test_an_idle_kept_connection_is_closed_after_the_keep_alive_timeout(server: Server) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        response = b""
        while not response.endswith(b"}"):  # the whole JSON answer, however it is split
            chunk = sock.recv(65536)
            assert chunk, response
            response += chunk
        assert response.startswith(b"HTTP/1.1 200 "), response
        answered = time.monotonic()
        rest = read_answer(sock)
        idle = time.monotonic() - answered
    assert rest == b""
    assert KEEP_ALIVE * 0.5 <= idle < KEEP_ALIVE + SLACK, idle


def worker_rss_mib(server: Server) -> dict[int, float]:
    """VmRSS of each worker: the children of ``keel serve`` that multiprocessing spawned."""
    pid = server.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    rss = {}
    for child in map(int, children):
        with contextlib.suppress(FileNotFoundError):
            if b"spawn_main" not in Path(f"/proc/{child}/cmdline").read_bytes():
                continue  # multiprocessing's resource tracker
            for line in Path(f"/proc/{child}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss[child] = int(line.split()[1]) / 1024
    return rss


def test_unfinished_large_heads_leave_worker_memory_flat_and_are_closed(server: Server) -> None:
    clients, mib = 30, 8
    for _ in range(20):  # warm both workers up before the idle reading
        assert httpx.get(f"{server.base_url}/health/live", headers={"Connection": "close"})
    idle = worker_rss_mib(server)
    assert len(idle) == 2, idle
    peak = dict(idle)
    closed: list[bool] = []
    chunk = b"a" * (64 * KIB)

    def unfinished_head() -> None:
        with connect(server) as sock:
            try:
                sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ")
                for _ in range(mib * 16):
                    sock.sendall(chunk)
                closed.append(_closed_within(sock, 5.0))
            except (BrokenPipeError, ConnectionResetError):
                closed.append(True)
            except TimeoutError:
                closed.append(False)

    threads = [threading.Thread(target=unfinished_head, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while any(thread.is_alive() for thread in threads) and time.monotonic() < deadline:
        for pid, value in worker_rss_mib(server).items():
            peak[pid] = max(peak.get(pid, 0.0), value)
        time.sleep(0.05)
    for thread in threads:
        thread.join(timeout=max(deadline - time.monotonic(), 0.1))
    grown = {pid: round(peak[pid] - idle[pid], 1) for pid in idle}
    assert all(growth < 16 for growth in grown.values()), (idle, grown)
    assert closed.count(True) == clients, closed


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    """Whether the server closes the connection (after any answer) within ``seconds``."""
    deadline = time.monotonic() + seconds
    try:
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            if sock.recv(65536) == b"":
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return False
