"""Registration, login and the current user over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import httpx
import jwt
import pytest

from entrypoints.http.app import create_app
from tests.e2e.http_support import (
    PASSWORD,
    access_token,
    assert_envelope,
    login,
    make_settings,
    register,
    serving,
)

USER_FIELDS = {
    "id",
    "email",
    "full_name",
    "roles",
    "is_active",
    "is_superuser",
    "is_verified",
    "created_at",
    "updated_at",
}


async def test_register_returns_the_public_account(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/users",
        json={"email": "  Ada@Example.COM ", "password": PASSWORD, "full_name": " Ada "},
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == USER_FIELDS
    assert body["email"] == "ada@example.com"
    assert body["full_name"] == "Ada"
    assert body["roles"] == ["user"]
    assert (body["is_active"], body["is_superuser"], body["is_verified"]) == (True, False, False)
    assert body["created_at"].endswith(("Z", "+00:00"))
    assert PASSWORD not in response.text
    assert "argon2" not in response.text


async def test_login_then_read_me(client: httpx.AsyncClient) -> None:
    created = await register(client)
    response = await login(client, "ADA@example.com")
    assert response.status_code == 200
    pair = response.json()
    assert set(pair) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert pair["token_type"] == "bearer"
    assert pair["expires_in"] == 15 * 60
    me = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {pair['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json() == created


async def test_taken_email_is_409_whatever_its_case(client: httpx.AsyncClient) -> None:
    await register(client)
    response = await client.post(
        "/api/v1/users", json={"email": "ADA@EXAMPLE.com", "password": "another password"}
    )
    assert_envelope(response, 409, "CONFLICT")
    # The first account keeps its password.
    assert (await login(client)).status_code == 200
    assert (await login(client, password="another password")).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": PASSWORD}, "email"),
        ({"email": "ada@example.com"}, "password"),
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "ada@example.com", "password": "short"}, "password"),
        ({"email": "ada@example.com", "password": "x" * 129}, "password"),
        ({"email": "ada@example.com", "password": "        "}, "password"),
        ({"email": "ada@example.com", "password": "pass\x00word1"}, "password"),
        ({"email": "ada@example.com", "password": PASSWORD, "full_name": "A\x00"}, "full_name"),
        ({"email": "ada@example.com", "password": PASSWORD, "is_superuser": True}, "is_superuser"),
        ({"email": 42, "password": PASSWORD}, "email"),
    ],
)
async def test_bad_registration_is_422_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    response = await client.post("/api/v1/users", json=body)
    error = assert_envelope(response, 422, "VALIDATION_ERROR")
    errors = error["details"]["errors"]
    assert field in {entry["field"] for entry in errors}
    assert all(set(entry) == {"field", "message", "type"} for entry in errors)
    # Nothing was stored: the address is still free.
    await register(client)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"email": "ada@example.com", "password": ', "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b'"just a string"', "application/json"),
        (b"email=ada@example.com", "application/x-www-form-urlencoded"),
    ],
)
async def test_malformed_bodies_are_422(
    client: httpx.AsyncClient, content: bytes, content_type: str
) -> None:
    response = await client.post(
        "/api/v1/users", content=content, headers={"Content-Type": content_type}
    )
    assert_envelope(response, 422, "VALIDATION_ERROR")


async def test_every_login_failure_gets_one_body(client: httpx.AsyncClient) -> None:
    await register(client)
    failures = [
        await login(client, password="wrong password"),
        await login(client, email="nobody@example.com"),
        await login(client, email="not an email"),
    ]
    bodies = []
    for response in failures:
        error = assert_envelope(response, 401, "UNAUTHORIZED")
        assert response.headers["www-authenticate"] == "Bearer"
        bodies.append({**error, "request_id": None})
    assert bodies[0] == bodies[1] == bodies[2]


async def test_login_without_its_form_fields_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/login", data={"username": "ada@example.com"})
    error = assert_envelope(response, 422, "VALIDATION_ERROR")
    assert [entry["field"] for entry in error["details"]["errors"]] == ["password"]


FORM_EXPECTED = (
    "This route takes form fields (application/x-www-form-urlencoded): username, password"
)


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "text/plain"]
)
async def test_login_with_a_json_body_is_422_saying_it_takes_a_form(
    client: httpx.AsyncClient, content_type: str
) -> None:
    await register(client)
    response = await client.post(
        "/api/v1/auth/login",
        content=json.dumps({"username": "ada@example.com", "password": PASSWORD}),
        headers={"content-type": content_type},
    )
    error = assert_envelope(response, 422, "VALIDATION_ERROR")
    assert error["message"] == FORM_EXPECTED
    assert error["details"]["errors"] == [
        {"field": "body", "message": FORM_EXPECTED, "type": "form_expected"}
    ]
    assert (await login(client)).status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer not.a.jwt",
        "Basic YWRhOnBhc3N3b3Jk",
        "Bearer " + "a" * 10_000,
    ],
)
async def test_me_without_a_valid_token_is_401(
    client: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await client.get("/api/v1/users/me", headers=headers)
    assert_envelope(response, 401, "UNAUTHORIZED")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_refresh_token_is_not_an_access_token(client: httpx.AsyncClient) -> None:
    await register(client)
    refresh = (await login(client)).json()["refresh_token"]
    response = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {refresh}"})
    assert_envelope(response, 401, "UNAUTHORIZED")


async def test_a_token_signed_with_another_key_is_401(client: httpx.AsyncClient) -> None:
    await register(client)
    token = await access_token(client)
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode(claims, "another key that is long enough to be valid!!", "HS256")
    response = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {forged}"})
    assert_envelope(response, 401, "UNAUTHORIZED")


async def test_closed_registration_is_403_and_stores_nothing(migrated_url: str) -> None:
    app = create_app(make_settings(migrated_url, open_registration=False))
    async with serving(app) as client:
        response = await client.post(
            "/api/v1/users", json={"email": "ada@example.com", "password": PASSWORD}
        )
        assert_envelope(response, 403, "FORBIDDEN")
        assert (await login(client)).status_code == 401


async def test_a_common_password_is_422_saying_so(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/users", json={"email": "ada@example.com", "password": "ILoveYou"}
    )
    error = assert_envelope(response, 422, "VALIDATION_ERROR")
    [entry] = error["details"]["errors"]
    assert entry["field"] == "password"
    assert "common" in entry["message"]
    await register(client)  # the address is still free


async def test_too_many_failed_logins_are_429_with_retry_after(client: httpx.AsyncClient) -> None:
    await register(client)
    for _ in range(5):
        assert (await login(client, password="wrong password")).status_code == 401
    response = await login(client)
    error = assert_envelope(response, 429, "RATE_LIMITED")
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert error["details"] == {"retry_after": retry_after}
