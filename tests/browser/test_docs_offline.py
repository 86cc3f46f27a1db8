"""/docs and /redoc in a real browser with no network: Swagger UI registers an account, logs
in through its Authorize dialog (OAuth2's password flow) and reads the account back; ReDoc
draws the operations. Any Content-Security-Policy violation or console error fails the test."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import ConsoleMessage, Error, Page, expect

from tests.e2e.cli_support import (
    Server,
    assert_ok,
    keel_env,
    keel_server,
    run_keel,
    sqlite_url_for,
)

PASSWORD = "correct horse battery staple"
TIMEOUT_MS = 15_000


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    env = keel_env(tmp_path, sqlite_url_for(tmp_path / "k.db"))
    assert_ok(run_keel(["migrate"], env=env, cwd=tmp_path))
    with keel_server(env=env, cwd=tmp_path) as running:
        yield running


class Complaints:
    """The console's errors and every message about the Content-Security-Policy, and the
    page's uncaught exceptions."""

    def __init__(self, page: Page) -> None:
        self.found: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", self._page_error)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            self.found.append(f"{message.type}: {message.text}")

    def _page_error(self, error: Error) -> None:
        self.found.append(f"uncaught: {error}")


async def try_it_out(page: Page, operation: str) -> None:
    block = page.locator(f"#operations-{operation}")
    await block.locator(".opblock-summary-control").click()
    await block.locator(".try-out__btn").click()


async def execute(page: Page, operation: str) -> tuple[str, str]:
    """Runs the operation; its answer's status and body as Swagger UI shows them."""
    block = page.locator(f"#operations-{operation}")
    await block.locator(".btn.execute").click()
    answer = block.locator(".live-responses-table .response")
    status = answer.locator(".response-col_status")
    await expect(status).to_have_text(re.compile(r"^\d{3}$"), timeout=TIMEOUT_MS)
    body = await answer.locator(".response-col_description .microlight").first.inner_text()
    return (await status.inner_text()).strip(), body


async def test_swagger_ui_registers_authorizes_and_reads_the_account_offline(
    page: Page, server: Server
) -> None:
    complaints = Complaints(page)
    email = f"ada-{secrets.token_hex(4)}@example.com"
    await page.goto(f"{server.base_url}/docs")
    await expect(page.locator("#operations-users-registerUser")).to_be_visible(timeout=TIMEOUT_MS)

    await try_it_out(page, "users-registerUser")
    body = {"email": email, "password": PASSWORD, "full_name": "Ada"}
    await page.locator("#operations-users-registerUser .body-param__text").fill(json.dumps(body))
    status, text = await execute(page, "users-registerUser")
    assert status == "201", text
    assert json.loads(text)["email"] == email

    await page.locator(".auth-wrapper .btn.authorize").click()
    dialog = page.locator(".modal-ux")
    await dialog.locator("#oauth_username").fill(email)
    await dialog.locator("#oauth_password").fill(PASSWORD)
    await dialog.locator(".btn.modal-btn.auth.authorize").click()
    await expect(dialog.locator(".btn.modal-btn.auth", has_text="Logout")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    await dialog.locator(".btn-done").click()

    await try_it_out(page, "users-getCurrentUser")
    status, text = await execute(page, "users-getCurrentUser")
    assert status == "200", text
    assert json.loads(text)["email"] == email
    assert complaints.found == []


async def test_redoc_draws_the_operations_offline(page: Page, server: Server) -> None:
    complaints = Complaints(page)
    await page.goto(f"{server.base_url}/redoc")
    for summary in ("Register an account", "Log in with email and password", "Create an item"):
        await expect(page.get_by_role("heading", name=summary)).to_be_visible(timeout=TIMEOUT_MS)
    assert complaints.found == []
