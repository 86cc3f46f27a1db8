"""Requests without an Origin take a short way through the CORS layer: the answer must be
exactly Starlette's."""

from __future__ import annotations

import httpx
import pytest
from starlette.middleware.cors import CORSMiddleware as StarletteCORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from entrypoints.http.middleware.cors import (
    ALLOWED_HEADERS,
    ALLOWED_METHODS,
    EXPOSED_HEADERS,
    PREFLIGHT_MAX_AGE_SECONDS,
    CORSMiddleware,
)

ORIGIN = "https://app.example.com"


def answering(*vary: bytes) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"text/plain"), *((b"vary", value) for value in vary)]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


def starlettes(app: ASGIApp) -> ASGIApp:
    return StarletteCORSMiddleware(
        app,
        allow_origins=[ORIGIN],
        allow_methods=ALLOWED_METHODS,
        allow_headers=ALLOWED_HEADERS,
        expose_headers=EXPOSED_HEADERS,
        max_age=PREFLIGHT_MAX_AGE_SECONDS,
    )


async def headers_of(app: ASGIApp, **headers: str) -> list[tuple[str, str]]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://keel.test") as client:
        response = await client.get("/", headers=headers)
    assert response.status_code == 200
    return sorted(response.headers.multi_items())


@pytest.mark.parametrize("vary", [(), (b"Accept-Encoding",), (b"Accept-Encoding", b"Cookie")])
@pytest.mark.parametrize("origin", [None, ORIGIN, "https://evil.example"])
async def test_the_answer_is_starlettes(vary: tuple[bytes, ...], origin: str | None) -> None:
    sent = {"Origin": origin} if origin else {}
    ours = await headers_of(CORSMiddleware(answering(*vary), origins=[ORIGIN]), **sent)
    theirs = await headers_of(starlettes(answering(*vary)), **sent)
    assert ours == theirs
    assert [value for name, value in ours if name == "vary"][-1].endswith("Origin")


PREFLIGHTS = [
    {"Origin": origin, "Access-Control-Request-Method": method, **extra}
    for origin in (ORIGIN, "https://evil.example")
    for method in ("PATCH", "PUT")
    for extra in (
        {},
        {"Access-Control-Request-Headers": "Authorization, If-Match"},
        {"Access-Control-Request-Headers": "authorization, x-secret"},
        {"Access-Control-Request-Private-Network": "true"},
    )
]


@pytest.mark.parametrize("preflight", PREFLIGHTS)
async def test_a_refused_preflight_names_what_starlette_refused(preflight: dict[str, str]) -> None:
    # Starlette's refusal text names its failures: the envelope must name the same ones.
    async def options(app: ASGIApp) -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://keel.test") as client:
            return await client.options("/", headers=preflight)

    ours = await options(CORSMiddleware(answering(), origins=[ORIGIN]))
    theirs = await options(starlettes(answering()))
    assert ours.status_code == (400 if theirs.status_code == 400 else 200)
    if theirs.status_code == 200:
        return
    failures = theirs.text.removeprefix("Disallowed CORS ").split(", ")
    assert ours.json()["error"]["details"] == {"refused": failures}
    assert ours.json()["error"]["code"] == "HTTP_ERROR"
    kept = {
        name: value for name, value in theirs.headers.items() if not name.startswith("content-")
    }
    assert {name: value for name, value in ours.headers.items() if name in kept} == kept
