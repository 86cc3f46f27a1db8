"""Access lines and request context in the logs of real requests."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from entrypoints.logs import REDACTED, configure_logging
from tests.e2e.http_support import PASSWORD, access_token, bearer, register


def json_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]


async def test_one_access_line_per_request_with_context(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "json")
    user = await register(client)
    token = await access_token(client)
    capsys.readouterr()
    headers = {**bearer(token), "X-Request-ID": "trace-42"}
    item = (await client.post("/api/v1/items", json={"title": "t"}, headers=headers)).json()
    await client.get(f"/api/v1/items/{item['id']}", headers=headers)
    await client.get("/nowhere", headers={"X-Request-ID": "trace-43"})

    access = [line for line in json_lines(capsys) if line.get("logger") == "keel.access"]
    assert [(a["method"], a["route"], a["status"]) for a in access] == [
        ("POST", "/api/v1/items", 201),
        ("GET", "/api/v1/items/{item_id}", 200),
        ("GET", "<unmatched>", 404),
    ]
    assert [a["request_id"] for a in access] == ["trace-42", "trace-42", "trace-43"]
    assert [a.get("user_id") for a in access] == [user["id"], user["id"], None]
    assert all(isinstance(a["duration_ms"], float) for a in access)
    assert all(a["client"] == "127.0.0.1" for a in access)


async def test_logins_leave_no_password_or_token_in_the_logs(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("DEBUG", "json")
    await register(client)
    token = await access_token(client)
    await client.get("/api/v1/users/me", headers=bearer(token))
    await client.post(
        "/api/v1/auth/login", data={"username": "ada@example.com", "password": "wrong password"}
    )
    text = capsys.readouterr().err
    assert "request" in text
    for secret in (PASSWORD, "wrong password", token):
        assert secret not in text


async def test_access_lines_follow_the_level_the_format_and_the_redaction(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    jwt_shaped = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    configure_logging("WARNING", "json")
    capsys.readouterr()
    await client.get("/health/live")
    assert capsys.readouterr().err == ""

    configure_logging("INFO", "json")
    await client.get("/health/live", headers={"X-Request-ID": jwt_shaped})
    [line] = [line for line in json_lines(capsys) if line.get("logger") == "keel.access"]
    assert line["request_id"] == REDACTED
    assert (line["event"], line["level"], line["route"]) == ("request", "info", "/health/live")
    assert line["timestamp"].endswith("Z")

    configure_logging("INFO", "console")
    await client.get("/health/live", headers={"X-Request-ID": "trace-44"})
    err = capsys.readouterr().err
    assert "request" in err
    assert "trace-44" in err
    assert "/health/live" in err
    assert not err.lstrip().startswith("{")


async def test_personal_tokens_leave_no_trace_in_the_logs(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("DEBUG", "json")
    await register(client)
    access = bearer(await access_token(client))
    created = await client.post(
        "/api/v1/auth/tokens", json={"name": "script", "scopes": ["items:read"]}, headers=access
    )
    assert created.status_code == 201
    token = created.json()["token"]
    assert (await client.get("/api/v1/items", headers=bearer(token))).status_code == 200
    assert (await client.post("/api/v1/items", json={}, headers=bearer(token))).status_code == 403
    assert (await client.get("/api/v1/items", headers=bearer(token + "x"))).status_code == 401
    text = capsys.readouterr().err
    assert "request" in text
    assert token[len("keel_pat_") :] not in text
