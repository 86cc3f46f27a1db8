"""Refresh, logout and logout-all over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.http_support import assert_envelope, bearer, login, register

ME = "/api/v1/users/me"


async def pair(client: httpx.AsyncClient) -> dict[str, str]:
    response = await login(client)
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/v1/auth/refresh", json={"refresh_token": token})


async def test_refresh_rotates_and_refuses_the_spent_token(client: httpx.AsyncClient) -> None:
    await register(client)
    first = await pair(client)
    response = await refresh(client, first["refresh_token"])
    assert response.status_code == 200
    second = response.json()
    assert set(second) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert second["refresh_token"] != first["refresh_token"]
    assert (await client.get(ME, headers=bearer(second["access_token"]))).status_code == 200

    replay = await refresh(client, first["refresh_token"])
    assert_envelope(replay, 401, "UNAUTHORIZED")
    # The replay ended the family: the newest refresh token is refused too.
    assert_envelope(await refresh(client, second["refresh_token"]), 401, "UNAUTHORIZED")


@pytest.mark.parametrize(
    "body",
    [{}, {"refresh_token": ""}, {"refresh_token": None}, {"refresh_token": "x", "extra": 1}],
)
async def test_bad_refresh_bodies_are_422(client: httpx.AsyncClient, body: object) -> None:
    response = await client.post("/api/v1/auth/refresh", json=body)
    assert_envelope(response, 422, "VALIDATION_ERROR")


async def test_an_access_token_cannot_refresh(client: httpx.AsyncClient) -> None:
    await register(client)
    tokens = await pair(client)
    for token in (tokens["access_token"], "not.a.jwt", "garbage"):
        assert_envelope(await refresh(client, token), 401, "UNAUTHORIZED")


async def test_logout_ends_one_session(client: httpx.AsyncClient) -> None:
    await register(client)
    phone, laptop = await pair(client), await pair(client)
    response = await client.post(
        "/api/v1/auth/logout", json={"refresh_token": phone["refresh_token"]}
    )
    assert response.status_code == 204
    assert_envelope(await refresh(client, phone["refresh_token"]), 401, "UNAUTHORIZED")
    assert (await refresh(client, laptop["refresh_token"])).status_code == 200


async def test_logout_with_a_bad_token_is_401(client: httpx.AsyncClient) -> None:
    await register(client)
    tokens = await pair(client)
    for token in (tokens["access_token"], "garbage"):
        response = await client.post("/api/v1/auth/logout", json={"refresh_token": token})
        assert_envelope(response, 401, "UNAUTHORIZED")
    assert (await refresh(client, tokens["refresh_token"])).status_code == 200


async def test_logout_all_ends_every_access_and_refresh_token(client: httpx.AsyncClient) -> None:
    await register(client)
    phone, laptop = await pair(client), await pair(client)
    response = await client.post("/api/v1/auth/logout-all", headers=bearer(phone["access_token"]))
    assert response.status_code == 204
    for tokens in (phone, laptop):
        assert_envelope(
            await client.get(ME, headers=bearer(tokens["access_token"])), 401, "UNAUTHORIZED"
        )
        assert_envelope(await refresh(client, tokens["refresh_token"]), 401, "UNAUTHORIZED")
    fresh = await pair(client)
    assert (await client.get(ME, headers=bearer(fresh["access_token"]))).status_code == 200


async def test_logout_all_needs_a_token(client: httpx.AsyncClient) -> None:
    assert_envelope(await client.post("/api/v1/auth/logout-all"), 401, "UNAUTHORIZED")


async def test_a_password_change_ends_refresh_tokens(client: httpx.AsyncClient) -> None:
    await register(client)
    tokens = await pair(client)
    changed = await client.patch(
        ME,
        json={"password": "a brand new password", "current_password": "correct horse battery"},
        headers=bearer(tokens["access_token"]),
    )
    assert changed.status_code == 200
    assert_envelope(await refresh(client, tokens["refresh_token"]), 401, "UNAUTHORIZED")


async def test_logout_ends_that_sessions_access_tokens_at_once(client: httpx.AsyncClient) -> None:
    await register(client)
    phone, laptop = await pair(client), await pair(client)
    rotated = (await refresh(client, phone["refresh_token"])).json()
    response = await client.post(
        "/api/v1/auth/logout", json={"refresh_token": rotated["refresh_token"]}
    )
    assert response.status_code == 204
    # Both access tokens of the phone's session, before and after its rotation, stop.
    for token in (phone["access_token"], rotated["access_token"]):
        assert_envelope(await client.get(ME, headers=bearer(token)), 401, "UNAUTHORIZED")
    assert (await client.get(ME, headers=bearer(laptop["access_token"]))).status_code == 200


async def test_a_reused_refresh_token_ends_the_newest_access_token_too(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    stolen = await pair(client)
    rotated = (await refresh(client, stolen["refresh_token"])).json()
    assert (await client.get(ME, headers=bearer(rotated["access_token"]))).status_code == 200
    assert_envelope(await refresh(client, stolen["refresh_token"]), 401, "UNAUTHORIZED")
    assert_envelope(
        await client.get(ME, headers=bearer(rotated["access_token"])), 401, "UNAUTHORIZED"
    )
