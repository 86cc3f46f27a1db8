"""`keel audit` end to end: the real console script in a subprocess, on a database the HTTP
app wrote events to (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from entrypoints.http.app import create_app
from tests.e2e.cli_support import PASSWORD, assert_error, assert_ok, keel_env, run_keel
from tests.e2e.http_support import login, make_settings, register, serving


async def some_events(url: str) -> str:
    """Ada registers, logs in, and someone guesses her password twice: her id."""
    async with serving(create_app(make_settings(url))) as client:
        ada = await register(client, "ada@example.com")
        assert (await login(client)).status_code == 200
        for guess in ("guess-one-1", "guess-two-2"):
            assert (await login(client, password=guess)).status_code == 401
    return str(ada["id"])


async def audit(tmp_path: Path, url: str, *args: str) -> tuple[int, str, str]:
    result = await asyncio.to_thread(
        run_keel, ["audit", *args], env=keel_env(tmp_path, url), cwd=tmp_path
    )
    if result.returncode == 0:
        assert_ok(result)
    return result.returncode, result.stdout, result.stderr


async def test_keel_audit_prints_an_accounts_events_newest_first(
    tmp_path: Path, migrated_url: str
) -> None:
    ada = await some_events(migrated_url)
    code, out, _ = await audit(tmp_path, migrated_url, "--email", "ADA@example.com")
    assert code == 0
    lines = out.splitlines()
    assert [line.split()[1] for line in lines] == [
        "login.failed",
        "login.failed",
        "login.succeeded",
        "user.registered",
    ]
    assert f"actor={ada}" in lines[2]
    assert "actor=system" in lines[0]
    code, out, _ = await audit(
        tmp_path, migrated_url, "--email", "ada@example.com", "--json", "--limit", "3"
    )
    assert code == 0
    events = json.loads(out)
    assert [e["type"] for e in events] == ["login.failed", "login.failed", "login.succeeded"]
    assert {e["user_id"] for e in events} == {ada}
    assert events[0]["details"] == {"reason": "password"}
    for secret in (PASSWORD, "guess-one-1", "guess-two-2", "argon2"):
        assert secret not in out


async def test_keel_audit_refuses_an_unknown_or_invalid_email(
    tmp_path: Path, migrated_url: str
) -> None:
    for email, says in (("nobody@example.com", "not found"), ("not an email", "email")):
        result = await asyncio.to_thread(
            run_keel,
            ["audit", "--email", email],
            env=keel_env(tmp_path, migrated_url),
            cwd=tmp_path,
        )
        assert says in assert_error(result).lower()
