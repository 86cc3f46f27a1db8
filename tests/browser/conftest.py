"""A real browser: Debian's headless Chromium, driven by Playwright for Python.

Playwright's own browser downloads are never used: the tests launch the Chromium that
``make servers`` installs from Debian's packages. Every page runs with the network cut off:
a request for anything but the loopback address is refused, recorded, and fails the test,
so a page that still needs a CDN or a web font cannot pass."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, BrowserContext, Page, Route, async_playwright

CHROMIUM_NAMES = ("chromium", "chromium-browser")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
# Running as root in a container needs --no-sandbox; the rest keeps Chromium from calling
# home (updates, sync, field trials), which on a machine without a network only adds noise.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    # Belt and braces beside the request filter below: no name resolves but loopback.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
)


def chromium_executable() -> str:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("Chromium is not installed: `make servers` installs it (apt-get install chromium)")


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium_executable(), headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            yield launched
        finally:
            await launched.close()


class OffNetwork:
    """Refuses every request that leaves the machine and remembers its address."""

    def __init__(self) -> None:
        self.refused: list[str] = []

    async def handle(self, route: Route) -> None:
        url = route.request.url
        host = urlsplit(url).hostname or ""
        if url.startswith(("data:", "blob:", "about:")) or host in LOOPBACK_HOSTS:
            await route.continue_()
            return
        self.refused.append(url)
        await route.abort("internetdisconnected")


@pytest.fixture
async def off_network() -> OffNetwork:
    return OffNetwork()


@pytest.fixture
async def context(browser: Browser, off_network: OffNetwork) -> AsyncIterator[BrowserContext]:
    """A fresh profile per test (no cookies, no storage), offline but for loopback. The test
    fails if any page asked for an address off the machine."""
    ctx = await browser.new_context(java_script_enabled=True)
    await ctx.route("**/*", off_network.handle)
    try:
        yield ctx
    finally:
        await ctx.close()
    assert not off_network.refused, f"pages asked for the network: {off_network.refused}"


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()
