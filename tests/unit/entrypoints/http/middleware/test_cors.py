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
