"""Answers to clients that do not accept gzip go out as they are, marked ``Vary`` when they
could have been compressed for another client."""

from __future__ import annotations

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from entrypoints.http.middleware.compression import CompressionMiddleware

LARGE = b"x" * 2000


def app_answering(body: bytes, status: int = 200, **extra: bytes) -> CompressionMiddleware:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"text/plain"), *((k.encode(), v) for k, v in extra.items())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return CompressionMiddleware(app, minimum_size=1024, compresslevel=6)


async def get(app: CompressionMiddleware, accept: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://keel.test") as client:
        request = client.build_request("GET", "/", headers={"Accept-Encoding": accept})
        response = await client.send(request, stream=True)
        await response.aread()
        return response


@pytest.mark.parametrize("accept", ["identity", "", "br"])
async def test_large_answers_go_as_they_are_and_vary(accept: str) -> None:
    response = await get(app_answering(LARGE), accept)
    assert response.content == LARGE
    assert "content-encoding" not in response.headers
    assert response.headers["vary"] == "Accept-Encoding"


async def test_small_answers_do_not_vary() -> None:
    response = await get(app_answering(b"small"), "identity")
    assert (response.content, response.headers.get("vary")) == (b"small", None)


async def test_an_existing_vary_is_extended_once() -> None:
    extended = await get(app_answering(LARGE, vary=b"Origin"), "identity")
    assert extended.headers["vary"] == "Origin, Accept-Encoding"
    kept = await get(app_answering(LARGE, vary=b"accept-encoding"), "identity")
    assert kept.headers["vary"] == "accept-encoding"


async def test_encoded_or_partial_answers_are_left_alone() -> None:
    encoded = await get(app_answering(LARGE, **{"content-encoding": b"br"}), "identity")
    assert "vary" not in encoded.headers
    partial = await get(app_answering(LARGE, status=206), "identity")
    assert "vary" not in partial.headers


async def test_clients_that_accept_gzip_get_it() -> None:
    response = await get(app_answering(LARGE), "gzip, deflate")
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.content == LARGE  # httpx decodes it
