"""The browser fixture itself: it runs Debian's Chromium and it really is offline."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest
from playwright.async_api import Page

from tests.browser.conftest import OffNetwork


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = (
            b"<!doctype html><title>t</title>"
            b'<img src="https://cdn.example.invalid/x.png" alt="">'
            b"<p id=p>hello</p>"
        )
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def local_page_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


async def test_loopback_pages_load_and_outside_requests_are_refused_and_recorded(
    page: Page, off_network: OffNetwork, local_page_url: str
) -> None:
    await page.goto(local_page_url)
    assert await page.text_content("#p") == "hello"
    assert off_network.refused == ["https://cdn.example.invalid/x.png"]
    # Forgive the request this test made on purpose, so the fixture's check passes.
    off_network.refused.clear()
