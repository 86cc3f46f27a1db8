"""The account pages in a real browser with JavaScript off, against a real `keel serve`
that mails the test SMTP server and runs its jobs itself: the links from the mails, the
labelled form fields and the buttons are all a person needs."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import OffNetwork
from tests.e2e.cli_support import (
    PASSWORD,
    Server,
    assert_ok,
    keel_env,
    keel_server,
    run_keel,
    sqlite_url_for,
)
from tests.support.smtp import Received, SmtpServer

# Where the mails say the pages are; the test opens the same path and query on the server.
PUBLIC_BASE_URL = "https://keel.example"
LINK = re.compile(re.escape(PUBLIC_BASE_URL) + r"(/(?:verify-email|reset-password)\?token=\S+)")
NEW_PASSWORD = "a long and quiet river"
EMAIL = "ada@example.com"


@pytest.fixture
def server(tmp_path: Path, smtp_server: SmtpServer) -> Iterator[Server]:
    env = keel_env(
        tmp_path,
        sqlite_url_for(tmp_path / "k.db"),
        SMTP_HOST=smtp_server.host,
        SMTP_PORT=str(smtp_server.port),
        SMTP_TLS="none",
        PUBLIC_BASE_URL=PUBLIC_BASE_URL,
        JOBS_IN_PROCESS="true",
    )
    assert_ok(run_keel(["migrate"], env=env, cwd=tmp_path))
    with keel_server(env=env, cwd=tmp_path) as running:
        yield running


@pytest.fixture
async def no_script_page(browser: Browser, off_network: OffNetwork) -> AsyncIterator[Page]:
    """A fresh profile with JavaScript disabled, offline but for loopback."""
    context: BrowserContext = await browser.new_context(java_script_enabled=False)
    await context.route("**/*", off_network.handle)
    try:
        yield await context.new_page()
    finally:
        await context.close()
    assert not off_network.refused, f"pages asked for the network: {off_network.refused}"


async def link_in_mail(smtp: SmtpServer, subject: str) -> str:
    """The path and query of the one link in the one mail with ``subject``."""
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        mails: list[Received] = [m for m in smtp.received if m.message["Subject"] == subject]
        if mails or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.05)
    [mail] = mails
    [link] = set(LINK.findall(mail.part("plain")))
    return link


async def login_status(client: httpx.AsyncClient, password: str) -> int:
    response = await client.post(
        "/api/v1/auth/login", data={"username": EMAIL, "password": password}
    )
    return response.status_code


async def test_verify_and_reset_through_the_pages_with_javascript_off(
    server: Server, smtp_server: SmtpServer, no_script_page: Page
) -> None:
    page = no_script_page
    styles: list[int] = []
    page.on(
        "response",
        lambda r: styles.append(r.status) if urlsplit(r.url).path == "/assets/keel.css" else None,
    )
    async with httpx.AsyncClient(base_url=server.base_url, timeout=20) as api:
        created = await api.post("/api/v1/users", json={"email": EMAIL, "password": PASSWORD})
        assert created.status_code == 201, created.text
        login = await api.post("/api/v1/auth/login", data={"username": EMAIL, "password": PASSWORD})
        me = {"Authorization": f"Bearer {login.json()['access_token']}"}

        # Verification: opening the link shows a button and changes nothing; pressing it does.
        link = await link_in_mail(smtp_server, "Verify your email address for Keel")
        opened = await page.goto(server.base_url + link)
        assert opened is not None
        assert opened.status == 200
        assert (await api.get("/api/v1/users/me", headers=me)).json()["is_verified"] is False
        await page.get_by_role("button", name="Verify my email address").click()
        await expect(page.get_by_role("status")).to_contain_text("Your email address is verified")
        assert (await api.get("/api/v1/users/me", headers=me)).json()["is_verified"] is True

        # Reset: the labelled field takes the new password, which then signs in; the old not.
        asked = await api.post("/api/v1/auth/password-reset/request", json={"email": EMAIL})
        assert asked.status_code == 202, asked.text
        link = await link_in_mail(smtp_server, "Reset your Keel password")
        await page.goto(server.base_url + link)
        field = page.get_by_label("New password")
        await field.fill("password123")  # long enough for the browser, refused by Keel
        await page.get_by_role("button", name="Set the new password").click()
        await expect(field).to_have_attribute("aria-invalid", "true")
        await expect(field).to_have_accessible_description(re.compile("too common"))
        await expect(page.get_by_role("alert")).to_be_visible()
        await field.fill(NEW_PASSWORD)
        await page.get_by_role("button", name="Set the new password").click()
        await expect(page.get_by_role("status")).to_contain_text("Your password is changed")
        assert await login_status(api, NEW_PASSWORD) == 200
        assert await login_status(api, PASSWORD) == 401

        # The same link again: the page says at once that it is spent, and offers no form.
        reopened = await page.goto(server.base_url + link)
        assert reopened is not None
        assert reopened.status == 400
        await expect(page.get_by_role("alert")).to_contain_text(
            "The token is invalid or has expired"
        )
        await expect(page.get_by_label("New password")).to_have_count(0)
        assert await login_status(api, NEW_PASSWORD) == 200
    # Every page loaded Keel's own stylesheet (their CSP allows no other).
    assert styles
    assert set(styles) <= {200, 304}
