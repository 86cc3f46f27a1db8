"""The account pages the mails link to, end to end in process: a GET changes nothing, the
POST calls the API's use case and fails as the API does, every value is escaped, and the
pages carry their own strict CSP and no script."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI

from entrypoints.http.app import create_app
from tests.e2e.http_support import PASSWORD, access_token, login, register, serving
from tests.e2e.test_http_account_mail import (
    NEW_PASSWORD,
    RESET_SUBJECT,
    VERIFY_SUBJECT,
    mail_settings,
    mails_to,
    me,
    token_in,
)
from tests.support.smtp import SmtpServer

PAGES_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SPENT = "The token is invalid or has expired"
ALERT = re.compile(r'<[a-z]+ [^>]*role="alert"[^>]*>(.*?)</', re.DOTALL)


@pytest.fixture
async def app(migrated_url: str, smtp_server: SmtpServer) -> FastAPI:
    return create_app(mail_settings(migrated_url, smtp_server))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app) as client:
        yield client


def alert_of(response: httpx.Response) -> str:
    found = ALERT.search(response.text)
    assert found is not None, response.text
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


def assert_page(response: httpx.Response, status: int, *, token: bool = True) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == PAGES_CSP
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "<script" not in response.text.lower()
    if token:
        assert response.headers["cache-control"] == "no-store"


async def registered_and_verify_token(client: httpx.AsyncClient, smtp: SmtpServer) -> str:
    await register(client)
    [mail] = await mails_to(smtp, "ada@example.com", VERIFY_SUBJECT)
    return token_in(mail, "verify-email")


async def reset_token(client: httpx.AsyncClient, smtp: SmtpServer) -> str:
    await register(client)
    response = await client.post(
        "/api/v1/auth/password-reset/request", json={"email": "ada@example.com"}
    )
    assert response.status_code == 202, response.text
    [mail] = await mails_to(smtp, "ada@example.com", RESET_SUBJECT)
    return token_in(mail, "reset-password")


async def test_opening_the_verification_link_verifies_nothing_and_the_button_does(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    token = await registered_and_verify_token(client, smtp_server)
    bearer_token = await access_token(client)
    # A mail scanner follows the link, perhaps more than once and with HEAD.
    for method in ("GET", "HEAD", "GET"):
        opened = await client.request(method, "/verify-email", params={"token": token})
        assert_page(opened, 200)
    assert f'value="{token}"' in opened.text
    assert (await me(client, bearer_token))["is_verified"] is False

    pressed = await client.post("/verify-email", data={"token": token})
    assert_page(pressed, 200)
    assert "Your email address is verified" in pressed.text
    assert (await me(client, bearer_token))["is_verified"] is True

    again = await client.post("/verify-email", data={"token": token})
    assert_page(again, 400)
    assert alert_of(again) == SPENT
    reopened = await client.get("/verify-email", params={"token": token})
    assert_page(reopened, 400)
    assert alert_of(reopened) == SPENT
    assert "<button" not in reopened.text
    made_up = await client.post("/verify-email", data={"token": "x" * 43})
    assert_page(made_up, 400)
    assert alert_of(made_up) == SPENT


async def test_the_reset_form_sets_the_password_once(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    token = await reset_token(client, smtp_server)
    opened = await client.get("/reset-password", params={"token": token})
    assert_page(opened, 200)
    assert 'autocomplete="new-password"' in opened.text
    assert (await login(client)).status_code == 200  # opening it changed nothing

    done = await client.post("/reset-password", data={"token": token, "new_password": NEW_PASSWORD})
    assert_page(done, 200)
    assert "Your password is changed" in done.text
    assert (await login(client, password=NEW_PASSWORD)).status_code == 200
    assert (await login(client, password=PASSWORD)).status_code == 401

    reopened = await client.get("/reset-password", params={"token": token})
    assert_page(reopened, 400)
    assert alert_of(reopened) == SPENT
    assert 'name="new_password"' not in reopened.text  # no form for a spent link
    again = await client.post(
        "/reset-password", data={"token": token, "new_password": "yet another passphrase"}
    )
    assert_page(again, 400)
    assert alert_of(again) == SPENT
    assert (await login(client, password=NEW_PASSWORD)).status_code == 200


@pytest.mark.parametrize("weak", ["short", "password123", "        ", "x" * 129])
async def test_a_weak_password_is_refused_with_the_apis_rule_and_keeps_the_token(
    client: httpx.AsyncClient, smtp_server: SmtpServer, weak: str
) -> None:
    token = await reset_token(client, smtp_server)
    api = await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": weak}
    )
    assert api.status_code == 422, api.text
    [rule] = api.json()["error"]["details"]["errors"]

    refused = await client.post("/reset-password", data={"token": token, "new_password": weak})
    assert_page(refused, 422)
    assert alert_of(refused) == rule["message"]
    # The field says it is at fault and names the message, and the form keeps the token.
    field = re.search(r'<input type="password"[^>]*>', refused.text)
    assert field is not None
    assert 'aria-invalid="true"' in field.group(0)
    assert 'aria-describedby="new_password_error' in field.group(0)
    assert 'id="new_password_error" role="alert"' in refused.text
    assert f'name="token" value="{token}"' in refused.text

    done = await client.post("/reset-password", data={"token": token, "new_password": NEW_PASSWORD})
    assert_page(done, 200)
    assert (await login(client, password=NEW_PASSWORD)).status_code == 200


XSS = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


@pytest.mark.parametrize("path", ["/verify-email", "/reset-password"])
async def test_a_hostile_token_is_refused_and_never_echoed_raw(
    client: httpx.AsyncClient, path: str
) -> None:
    for token in (XSS, "x" * 513, "a\x00b"):
        opened = await client.get(path, params={"token": token})
        assert_page(opened, 400)
        assert alert_of(opened) == SPENT
        assert "<img" not in opened.text
    posted = await client.post(path, data={"token": XSS, "new_password": NEW_PASSWORD})
    assert_page(posted, 400)
    assert "<img" not in posted.text


async def test_a_hostile_token_in_a_form_shown_again_is_escaped(
    client: httpx.AsyncClient,
) -> None:
    # A refused password shows the form again, with the token it was sent in its field.
    shown = await client.post("/reset-password", data={"token": XSS, "new_password": "short"})
    assert_page(shown, 422)
    assert "<img" not in shown.text
    assert (
        'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"'
        in shown.text
    )


@pytest.mark.parametrize("path", ["/verify-email", "/reset-password"])
async def test_a_link_without_a_token_or_a_body_that_is_no_form_is_refused(
    client: httpx.AsyncClient, path: str
) -> None:
    for empty in (await client.get(path), await client.get(path, params={"token": ""})):
        assert_page(empty, 400)
        assert alert_of(empty) == SPENT
    not_a_form = await client.post(path, json={"token": "x", "new_password": NEW_PASSWORD})
    assert_page(not_a_form, 422)
    assert "Invalid input" in alert_of(not_a_form)
    # A file, or a flood of fields, is refused by the parser before it is spooled: still a page.
    with_a_file = await client.post(path, data={"token": "x"}, files={"f": ("a", b"x" * 999)})
    assert_page(with_a_file, 400)
    assert "files" in alert_of(with_a_file)
    flood = await client.post(path, data={f"field{n}": "x" for n in range(50)})
    assert_page(flood, 400)
    assert "fields" in alert_of(flood)


async def test_home_says_how_to_sign_in_and_links_the_docs(
    migrated_url: str, smtp_server: SmtpServer
) -> None:
    for docs in (True, False):
        app = create_app(mail_settings(migrated_url, smtp_server, docs_enabled=docs))
        async with serving(app) as client:
            home = await client.get("/")
            assert_page(home, 200, token=False)
            assert "/api/v1/auth/login" in home.text
            assert ('href="docs"' in home.text) is docs
            assert ('href="redoc"' in home.text) is docs
            head = await client.head("/")
            assert head.status_code == 200
            assert head.headers["content-length"] == home.headers["content-length"]
            assert head.content == b""


async def test_the_stylesheet_is_served_and_pages_ask_for_nothing_else(
    client: httpx.AsyncClient,
) -> None:
    sheet = await client.get("/assets/keel.css")
    assert sheet.status_code == 200
    assert sheet.headers["content-type"].startswith("text/css")
    assert sheet.headers["content-security-policy"] == PAGES_CSP
    pages = [await client.get(p) for p in ("/", "/verify-email?token=t", "/reset-password")]
    for page in pages:
        # Relative, so that the pages work under a path prefix, and never off the site.
        for link in re.findall(r'(?:href|src|action)="([^"]*)"', page.text):
            assert not urlsplit(link).scheme, link
            assert not link.startswith("/"), link
        assert 'href="assets/keel.css"' in page.text


async def test_the_pages_are_not_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert not {"/", "/verify-email", "/reset-password", "/assets/keel.css"} & set(paths)
    api = await client.get("/api/v1/users/me")
    assert api.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"


async def test_the_welcome_mail_links_to_a_page_that_exists(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    await register(client)
    [welcome] = await mails_to(smtp_server, "ada@example.com", "Welcome to Keel")
    links = set(re.findall(r"https://app\.example\.com[^\s\"<]*", welcome.part("plain")))
    links |= set(re.findall(r'href="([^"]+)"', welcome.part("html")))
    assert links == {"https://app.example.com/"}
    page = await client.get(urlsplit(links.pop()).path)
    assert_page(page, 200, token=False)
