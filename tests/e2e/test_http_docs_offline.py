"""/docs and /redoc need nothing but Keel: their pages name only Keel's own assets, the
assets are served with their types and cached for good, and the pages' Content-Security-Policy
allows no other origin. The browser side is tests/browser/test_docs_offline.py."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from importlib.resources import files
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from entrypoints.http.app import create_app
from tests.e2e.http_support import assert_envelope, make_settings, serving

PAGES = ("/docs", "/redoc", "/docs/oauth2-redirect")
TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
    "swagger-init.js": "text/javascript; charset=utf-8",
    "oauth2-redirect.js": "text/javascript; charset=utf-8",
}
IDENTITY = {"Accept-Encoding": "identity"}
LINKED = re.compile(r'(?:src|href)="([^"]*)"')


@pytest.fixture
async def client(sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(create_app(make_settings(sqlite_url))) as served:
        yield served


async def linked_assets(client: httpx.AsyncClient) -> dict[str, str]:
    """Every asset the pages name, by file name: the URL they name it by."""
    found: dict[str, str] = {}
    for page in PAGES:
        for url in LINKED.findall((await client.get(page)).text):
            found[urlsplit(url).path.rsplit("/", 1)[-1]] = url
    return found


@pytest.mark.parametrize("page", PAGES)
async def test_a_page_names_no_other_origin_and_runs_no_inline_code(
    client: httpx.AsyncClient, page: str
) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    html = response.text
    assert "//" not in html, "an absolute or protocol-relative URL"
    assert "<style" not in html
    assert not re.search(r"\son\w+=", html), "an inline event handler"
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.DOTALL)
    assert scripts
    assert all('src="/docs/assets/' in attributes and not body for attributes, body in scripts)
    for url in LINKED.findall(html):
        assert url.startswith("/docs/assets/"), url
        assert (await client.get(url)).status_code == 200, url


async def test_every_asset_is_named_by_a_digest_of_what_is_served(
    client: httpx.AsyncClient,
) -> None:
    assets = await linked_assets(client)
    assert set(assets) == set(TYPES)
    for url in assets.values():
        body = (await client.get(url, headers=IDENTITY)).content
        # A new version of a file is a new URL, so a year's caching never serves a stale one.
        assert parse_qs(urlsplit(url).query)["v"] == [hashlib.sha256(body).hexdigest()[:32]]
    vendored = files("fastapi_offline").joinpath("static", "swagger-ui-bundle.js").read_bytes()
    assert (await client.get(assets["swagger-ui-bundle.js"], headers=IDENTITY)).content == vendored


@pytest.mark.parametrize("name", sorted(TYPES))
async def test_an_asset_has_its_type_a_strong_etag_and_a_year_of_caching(
    client: httpx.AsyncClient, name: str
) -> None:
    url = (await linked_assets(client))[name]
    plain = await client.get(url, headers=IDENTITY)
    assert plain.status_code == 200
    assert plain.headers["content-type"] == TYPES[name]
    assert "content-encoding" not in plain.headers
    assert plain.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert re.fullmatch(r'"[0-9a-f]{32}"', plain.headers["etag"])
    packed = await client.get(url, headers={"Accept-Encoding": "gzip"})
    assert packed.headers["cache-control"] == plain.headers["cache-control"]
    assert packed.content == plain.content  # httpx decodes
    if name.endswith(".png"):
        assert "content-encoding" not in packed.headers
        assert packed.headers["etag"] == plain.headers["etag"]
    else:
        # Another coding, another representation: its own strong tag.
        assert packed.headers["content-encoding"] == "gzip"
        assert packed.headers["etag"] == plain.headers["etag"][:-1] + '-gzip"'
        assert packed.headers["vary"] == "Accept-Encoding"
        assert int(packed.headers["content-length"]) < len(plain.content)


async def test_if_none_match_with_the_tag_is_a_304_without_a_body(
    client: httpx.AsyncClient,
) -> None:
    url = (await linked_assets(client))["swagger-ui-bundle.js"]
    plain = await client.get(url, headers=IDENTITY)
    packed = await client.get(url, headers={"Accept-Encoding": "gzip"})
    conditions = (
        plain.headers["etag"],
        f'"x", {packed.headers["etag"]}',  # either coding's tag: the file is the same
        "W/" + plain.headers["etag"],  # weak comparison
        "*",
    )
    for condition in conditions:
        again = await client.get(url, headers={**IDENTITY, "If-None-Match": condition})
        assert again.status_code == 304, condition
        assert again.content == b""
        assert again.headers["etag"] == plain.headers["etag"]
        assert again.headers["cache-control"] == plain.headers["cache-control"]
    other = await client.get(url, headers={**IDENTITY, "If-None-Match": '"0123"'})
    assert other.status_code == 200
    assert other.content == plain.content


async def test_nothing_of_the_documentation_is_served_when_it_is_disabled(
    sqlite_url: str,
) -> None:
    enabled = make_settings(sqlite_url)
    async with serving(create_app(enabled)) as client:
        urls = [*PAGES, *(await linked_assets(client)).values()]
    disabled = make_settings(sqlite_url, docs_enabled=False)
    async with serving(create_app(disabled)) as client:
        for url in urls:
            assert_envelope(await client.get(url), 404, "HTTP_ERROR")


def directives(policy: str) -> dict[str, list[str]]:
    parsed = (part.split() for part in policy.split(";") if part.strip())
    return {name: sources for name, *sources in parsed}


async def test_the_docs_policy_allows_no_other_origin_and_no_inline_script(
    client: httpx.AsyncClient,
) -> None:
    urls = [*PAGES, *(await linked_assets(client)).values()]
    for url in urls:
        policy = directives((await client.get(url)).headers["content-security-policy"])
        assert policy["default-src"] == ["'self'"], url
        assert policy["script-src"] == ["'self'"], url
        assert policy["connect-src"] == ["'self'"], url
        assert policy["img-src"] == ["'self'", "data:"], url
        assert policy["frame-ancestors"] == ["'none'"], url
        assert policy["base-uri"] == ["'none'"], url
        assert policy["form-action"] == ["'self'"], url
        sources = {source for values in policy.values() for source in values}
        # Only ReDoc's styled-components and search worker need these two (see request_context).
        allowed = {"'self'", "'none'", "data:"}
        if url == "/redoc":
            allowed |= {"blob:", "'unsafe-inline'"}
            assert policy["style-src"] == ["'self'", "'unsafe-inline'"], url
            assert policy["worker-src"] == ["blob:"], url
        else:
            assert policy["style-src"] == ["'self'"], url
        assert sources <= allowed, (url, sources - allowed)
    api = await client.get("/health/live")
    assert api.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"


async def test_the_asyncapi_document_describes_the_live_socket_where_docs_are_served(
    sqlite_url: str,
) -> None:
    async with serving(create_app(make_settings(sqlite_url))) as client:
        answer = await client.get("/asyncapi.json")
        assert answer.status_code == 200
        document = answer.json()
    assert document["asyncapi"] == "3.0.0"
    channel = document["channels"]["live"]
    assert channel["address"] == "/api/v1/ws"
    kinds = {m["payload"]["properties"]["type"]["const"] for m in channel["messages"].values()}
    assert {"auth", "ready", "reset", "item.created", "item.updated", "item.deleted"} <= kinds
    async with serving(create_app(make_settings(sqlite_url, docs_enabled=False))) as client:
        assert_envelope(await client.get("/asyncapi.json"), 404, "HTTP_ERROR")
