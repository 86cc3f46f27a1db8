"""The `keel` command line end to end: the real console script in a subprocess, a real
database, a clean environment and no `.env` (each command runs in its own empty directory)."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import stat
import subprocess
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from unittest.mock import ANY

import httpx
import pytest
from redis.asyncio import Redis

from adapters.sqlalchemy.migrations import AlembicMigrator
from tests.e2e.cli_support import (
    PASSWORD,
    Server,
    assert_error,
    assert_ok,
    describe,
    keel_env,
    keel_server,
    login_status,
    run_keel,
    run_keel_in_pty,
    sqlite_url_for,
    status_of,
)
from tests.support.redis import RedisServer
from tests.support.rows_0004 import insert_rows, user_row

HEAD = AlembicMigrator("sqlite+aiosqlite://").head()
ADMIN = "admin@example.com"
UNREACHABLE_POSTGRES = "postgresql+asyncpg://u:pw@127.0.0.1:1/x"
# Typer writes "Password:" and then lets getpass write the final space once echo is off:
# typing before that space would be echoed, and then flushed away by getpass.
PASSWORD_PROMPT = "Password: "
REPEAT_PROMPT = "Repeat for confirmation: "


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to head, copied by every test that needs a migrated database."""
    path = tmp_path_factory.mktemp("template") / "keel.db"
    # The migrator runs its own event loop: keep it off pytest's thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(AlembicMigrator(sqlite_url_for(path)).upgrade).result()
    return path


@pytest.fixture
def migrated_sqlite(migrated_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "keel.db"
    shutil.copyfile(migrated_template, path)
    return sqlite_url_for(path)


@pytest.fixture
def fresh_sqlite(tmp_path: Path) -> str:
    return sqlite_url_for(tmp_path / "keel.db")


def keel_ok(tmp_path: Path, url: str, *args: str, stdin: str = "") -> str:
    result = run_keel(args, env=keel_env(tmp_path, url), cwd=tmp_path, stdin=stdin)
    assert_ok(result)
    return result.stdout


def migrate_status(tmp_path: Path, url: str) -> dict[str, str]:
    return status_of(run_keel(["migrate", "--status"], env=keel_env(tmp_path, url), cwd=tmp_path))


def create_superuser(
    tmp_path: Path, url: str, email: str = ADMIN, stdin: str = PASSWORD + "\n"
) -> subprocess.CompletedProcess[str]:
    return run_keel(
        ["create-superuser", "--email", email, "--password-stdin"],
        env=keel_env(tmp_path, url),
        cwd=tmp_path,
        stdin=stdin,
    )


# -- keel migrate ------------------------------------------------------------------------


def test_migrate_moves_up_and_down_between_revisions(tmp_path: Path, fresh_sqlite: str) -> None:
    assert HEAD is not None
    assert "database at 0001" in keel_ok(tmp_path, fresh_sqlite, "migrate", "--to", "0001")
    assert f"database at {HEAD}" in keel_ok(tmp_path, fresh_sqlite, "migrate")
    assert migrate_status(tmp_path, fresh_sqlite) == {
        "current": HEAD,
        "head": HEAD,
        "status": "up to date",
    }

    assert "database at 0001" in keel_ok(tmp_path, fresh_sqlite, "migrate", "--to", "0001")
    assert "database at base" in keel_ok(tmp_path, fresh_sqlite, "migrate", "--to", "base")
    status = migrate_status(tmp_path, fresh_sqlite)
    assert (status["current"], status["head"], status["status"]) == ("base", HEAD, "behind")


def test_migrate_status_exits_0_at_head(tmp_path: Path, migrated_sqlite: str) -> None:
    result = run_keel(
        ["migrate", "--status"], env=keel_env(tmp_path, migrated_sqlite), cwd=tmp_path
    )
    assert result.returncode == 0, describe(result)
    assert status_of(result) == {"current": HEAD, "head": HEAD, "status": "up to date"}


@pytest.mark.parametrize("to", ["base", "0001"])
def test_migrate_status_exits_1_when_behind(tmp_path: Path, fresh_sqlite: str, to: str) -> None:
    keel_ok(tmp_path, fresh_sqlite, "migrate", "--to", to)
    result = run_keel(["migrate", "--status"], env=keel_env(tmp_path, fresh_sqlite), cwd=tmp_path)
    assert result.returncode == 1, describe(result)
    assert status_of(result)["status"] == "behind"


def test_migrate_status_exits_2_at_a_revision_this_code_does_not_know(
    tmp_path: Path, migrated_sqlite: str
) -> None:
    """A database a newer release has migrated: neither "behind" nor safe to migrate."""
    path = migrated_sqlite.removeprefix("sqlite+aiosqlite:///")
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE alembic_version SET version_num = 'f00dfeed1234'")
    result = run_keel(
        ["migrate", "--status"], env=keel_env(tmp_path, migrated_sqlite), cwd=tmp_path
    )
    assert result.returncode == 2, describe(result)
    assert status_of(result) == {
        "current": "f00dfeed1234",
        "head": HEAD,
        "status": "unknown revision",
    }


def test_migrate_to_an_unknown_revision_fails_and_changes_nothing(
    tmp_path: Path, migrated_sqlite: str
) -> None:
    result = run_keel(
        ["migrate", "--to", "nope"], env=keel_env(tmp_path, migrated_sqlite), cwd=tmp_path
    )
    assert_error(result, "unknown revision", "nope")
    assert migrate_status(tmp_path, migrated_sqlite)["status"] == "up to date"


@pytest.mark.postgres
def test_migrate_on_postgres(tmp_path: Path, postgres_url: str) -> None:
    assert f"database at {HEAD}" in keel_ok(tmp_path, postgres_url, "migrate")
    assert migrate_status(tmp_path, postgres_url)["status"] == "up to date"
    assert "database at base" in keel_ok(tmp_path, postgres_url, "migrate", "--to", "base")
    status = migrate_status(tmp_path, postgres_url)
    assert (status["current"], status["status"]) == ("base", "behind")


def test_migrate_against_an_unreachable_database_fails_without_the_password(
    tmp_path: Path,
) -> None:
    result = run_keel(["migrate"], env=keel_env(tmp_path, UNREACHABLE_POSTGRES), cwd=tmp_path)
    line = assert_error(result)
    assert "pw" not in result.stdout + result.stderr, line


def test_migrate_stops_on_accounts_whose_emails_fold_to_one(
    tmp_path: Path, fresh_sqlite: str
) -> None:
    """0005 folds emails to one normal form; two accounts it would merge stop it, named."""
    assert "database at 0004" in keel_ok(tmp_path, fresh_sqlite, "migrate", "--to", "0004")
    fullwidth, plain = user_row("\uff41da@example.com"), user_row("ada@example.com")
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, insert_rows(fresh_sqlite, [fullwidth, plain])).result()

    result = run_keel(["migrate"], env=keel_env(tmp_path, fresh_sqlite), cwd=tmp_path)

    ids = ", ".join(sorted(str(user["id"]) for user in (fullwidth, plain)))
    assert_error(result, "migration 0005", "changed nothing", ids)
    assert migrate_status(tmp_path, fresh_sqlite)["current"] == "0004"


# -- keel create-superuser ---------------------------------------------------------------


async def test_create_superuser_makes_a_working_admin(tmp_path: Path, migrated_sqlite: str) -> None:
    result = await asyncio.to_thread(
        run_keel,
        ["create-superuser", "--email", ADMIN, "--full-name", "Root", "--password-stdin"],
        env=keel_env(tmp_path, migrated_sqlite),
        cwd=tmp_path,
        stdin=PASSWORD + "\n",
    )
    assert_ok(result)
    assert ADMIN in result.stdout + result.stderr
    assert PASSWORD not in result.stdout + result.stderr

    status, me = await login_status(migrated_sqlite, tmp_path, ADMIN, PASSWORD)
    assert status == 200
    assert me is not None
    assert me["email"] == ADMIN
    assert me["full_name"] == "Root"
    assert "admin" in me["roles"]
    assert me["is_superuser"] is True
    assert me["is_active"] is True


def test_create_superuser_refuses_an_existing_email_in_any_case(
    tmp_path: Path, migrated_sqlite: str
) -> None:
    assert_ok(create_superuser(tmp_path, migrated_sqlite))
    again = create_superuser(tmp_path, migrated_sqlite, email="  Admin@EXAMPLE.com")
    assert_error(again, "already exists")


async def test_create_superuser_refuses_a_weak_password_and_stores_nothing(
    tmp_path: Path, migrated_sqlite: str
) -> None:
    weak = await asyncio.to_thread(create_superuser, tmp_path, migrated_sqlite, stdin="short7!\n")
    assert_error(weak, "password", "8")
    assert await login_status(migrated_sqlite, tmp_path, ADMIN, "short7!") == (401, None)
    # The email is still free.
    assert_ok(await asyncio.to_thread(create_superuser, tmp_path, migrated_sqlite))


@pytest.mark.parametrize("email", ["not-an-email", "a b@example.com"])
def test_create_superuser_refuses_an_invalid_email(
    tmp_path: Path, migrated_sqlite: str, email: str
) -> None:
    assert_error(create_superuser(tmp_path, migrated_sqlite, email=email), "email")


@pytest.mark.parametrize("stdin", ["", "\n"])
def test_create_superuser_with_no_password_on_stdin_fails(
    tmp_path: Path, migrated_sqlite: str, stdin: str
) -> None:
    assert_error(create_superuser(tmp_path, migrated_sqlite, stdin=stdin), "password")


def test_create_superuser_without_a_terminal_asks_for_password_stdin(
    tmp_path: Path, migrated_sqlite: str
) -> None:
    result = run_keel(
        ["create-superuser", "--email", ADMIN],
        env=keel_env(tmp_path, migrated_sqlite),
        cwd=tmp_path,
        stdin=PASSWORD + "\n",
    )
    assert_error(result, "--password-stdin")


def test_create_superuser_on_an_unmigrated_database_says_to_migrate(
    tmp_path: Path, fresh_sqlite: str
) -> None:
    assert_error(create_superuser(tmp_path, fresh_sqlite), "keel migrate")


def test_create_superuser_against_an_unreachable_database_fails_without_the_password(
    tmp_path: Path,
) -> None:
    result = create_superuser(tmp_path, UNREACHABLE_POSTGRES)
    line = assert_error(result)
    assert "pw" not in result.stdout + result.stderr, line


async def test_create_superuser_prompts_twice_without_echo(
    tmp_path: Path, migrated_sqlite: str
) -> None:
    secret = "s3cret-Horse-42"
    code, shown = await asyncio.to_thread(
        run_keel_in_pty,
        ["create-superuser", "--email", ADMIN],
        env=keel_env(tmp_path, migrated_sqlite),
        cwd=tmp_path,
        replies=[(PASSWORD_PROMPT, secret + "\n"), (REPEAT_PROMPT, secret + "\n")],
    )
    assert code == 0, shown
    assert "Traceback" not in shown
    assert secret not in shown
    assert ADMIN in shown
    status, me = await login_status(migrated_sqlite, tmp_path, ADMIN, secret)
    assert status == 200
    assert me is not None
    assert me["is_superuser"] is True


def test_create_superuser_prompts_again_when_the_confirmation_differs(
    tmp_path: Path, migrated_sqlite: str
) -> None:
    secret = "s3cret-Horse-42"
    code, shown = run_keel_in_pty(
        ["create-superuser", "--email", ADMIN],
        env=keel_env(tmp_path, migrated_sqlite),
        cwd=tmp_path,
        replies=[
            (PASSWORD_PROMPT, secret + "\n"),
            (REPEAT_PROMPT, "something-else\n"),
            (PASSWORD_PROMPT, secret + "\n"),
            (REPEAT_PROMPT, secret + "\n"),
        ],
    )
    assert code == 0, shown
    assert "do not match" in shown
    assert "Traceback" not in shown
    assert secret not in shown
    assert "something-else" not in shown
    assert ADMIN in shown


def test_create_superuser_checks_the_email_before_reading_the_password(
    tmp_path: Path, migrated_sqlite: str
) -> None:
    """With nothing on standard input, a taken or invalid email is what the operator hears
    about, not the missing password."""
    assert_ok(create_superuser(tmp_path, migrated_sqlite))
    assert_error(create_superuser(tmp_path, migrated_sqlite, stdin=""), "already exists")
    assert_error(create_superuser(tmp_path, migrated_sqlite, email="nope", stdin=""), "email")


@pytest.mark.parametrize(("email", "fragment"), [(ADMIN, "already exists"), ("nope", "email")])
def test_create_superuser_at_a_terminal_refuses_the_email_before_any_prompt(
    tmp_path: Path, migrated_sqlite: str, email: str, fragment: str
) -> None:
    assert_ok(create_superuser(tmp_path, migrated_sqlite))
    code, shown = run_keel_in_pty(
        ["create-superuser", "--email", email],
        env=keel_env(tmp_path, migrated_sqlite),
        cwd=tmp_path,
        replies=[],
    )
    assert code == 1, shown
    assert fragment in shown
    assert "Password" not in shown
    assert "Traceback" not in shown


async def test_create_superuser_at_a_terminal_asks_again_after_a_weak_password(
    tmp_path: Path, migrated_sqlite: str
) -> None:
    secret = "s3cret-Horse-42"
    code, shown = await asyncio.to_thread(
        run_keel_in_pty,
        ["create-superuser", "--email", ADMIN],
        env=keel_env(tmp_path, migrated_sqlite),
        cwd=tmp_path,
        replies=[
            (PASSWORD_PROMPT, "short7!\n"),
            (REPEAT_PROMPT, "short7!\n"),
            (PASSWORD_PROMPT, "password123\n"),
            (REPEAT_PROMPT, "password123\n"),
            (PASSWORD_PROMPT, secret + "\n"),
            (REPEAT_PROMPT, secret + "\n"),
        ],
    )
    assert code == 0, shown
    assert "at least 8" in shown
    assert "too common" in shown
    assert "Traceback" not in shown
    assert secret not in shown
    assert await login_status(migrated_sqlite, tmp_path, ADMIN, secret) == (200, ANY)


# -- keel openapi ------------------------------------------------------------------------

EXPECTED_PATHS = {"/api/v1/users", "/api/v1/auth/login", "/health/ready"}


def test_openapi_writes_the_document_to_a_file(tmp_path: Path, fresh_sqlite: str) -> None:
    target = tmp_path / "openapi.json"
    keel_ok(tmp_path, fresh_sqlite, "openapi", "--output", str(target))
    document = json.loads(target.read_text(encoding="utf-8"))
    assert set(document["paths"]) >= EXPECTED_PATHS


def test_openapi_writes_the_document_to_stdout(tmp_path: Path, fresh_sqlite: str) -> None:
    document = json.loads(keel_ok(tmp_path, fresh_sqlite, "openapi"))
    assert set(document["paths"]) >= EXPECTED_PATHS
    assert document["openapi"].startswith("3.")


def test_openapi_into_a_missing_directory_fails(tmp_path: Path, fresh_sqlite: str) -> None:
    target = tmp_path / "missing" / "openapi.json"
    result = run_keel(
        ["openapi", "--output", str(target)], env=keel_env(tmp_path, fresh_sqlite), cwd=tmp_path
    )
    assert_error(result, "openapi.json")
    assert not target.parent.exists()


# -- settings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "variables", "expected"),
    [
        (["migrate"], {"DATABASE_POOL_SIZE": "abc"}, ["DATABASE_POOL_SIZE"]),
        (["migrate"], {"ACCESS_TOKEN_EXPIRE_MINUTES": "61"}, ["ACCESS_TOKEN_EXPIRE_MINUTES"]),
        (["migrate"], {"DATABASE_URL": "mysql://db/keel"}, ["DATABASE_URL"]),
        (["serve"], {"ENVIRONMENT": "production"}, ["JWT_SECRET"]),
        (
            ["serve"],
            {"ENVIRONMENT": "production", "JWT_SECRET": "0123456789"},
            ["JWT_SECRET", "32"],
        ),
    ],
    ids=["pool-size", "token-minutes", "database-url", "no-secret", "short-secret"],
)
def test_invalid_settings_stop_the_command_naming_the_variable(
    tmp_path: Path,
    fresh_sqlite: str,
    command: list[str],
    variables: dict[str, str],
    expected: list[str],
) -> None:
    env = keel_env(tmp_path, fresh_sqlite, **variables)
    line = assert_error(run_keel(command, env=env, cwd=tmp_path), *expected)
    assert "0123456789" not in line


def test_production_serve_refuses_the_embedded_database_and_any_host(tmp_path: Path) -> None:
    """Nothing is served, and no SQLite file is made, until both are set."""
    env = keel_env(
        tmp_path,
        ENVIRONMENT="production",
        JWT_SECRET="s" * 48,
        ENCRYPTION_KEY="IupzHTMrOXaFMRE85WOTEYIcs3NDLK0WVQIWfYBM1Jc=",
    )
    line = assert_error(run_keel(["serve"], env=env, cwd=tmp_path), "DATABASE_URL", "TRUSTED_HOSTS")
    assert "JWT_SECRET" not in line
    assert not (tmp_path / "keel.db").exists()
    env["TRUSTED_HOSTS"] = "api.example.com"
    line = assert_error(run_keel(["migrate"], env=env, cwd=tmp_path), "DATABASE_URL")
    assert "TRUSTED_HOSTS" not in line
    assert not (tmp_path / "keel.db").exists()


def test_an_unknown_command_fails(tmp_path: Path) -> None:
    result = run_keel(["frobnicate"], env=keel_env(tmp_path), cwd=tmp_path)
    assert result.returncode != 0, describe(result)
    assert "Traceback" not in result.stdout + result.stderr


# -- keel serve --------------------------------------------------------------------------


def assert_graceful_stop(server: Server) -> None:
    """SIGTERM ends the server after its shutdown ran, with status 0."""
    code = server.stop()
    assert code == 0, server.output()
    assert "Application shutdown complete" in server.output()
    assert "Traceback" not in server.output()


def test_serve_keeps_accounts_and_tokens_across_a_restart(
    tmp_path: Path, migrated_sqlite: str
) -> None:
    env = keel_env(tmp_path, migrated_sqlite)
    account = {"email": "ada@example.com", "password": PASSWORD, "full_name": "Ada"}
    credentials = {"username": account["email"], "password": PASSWORD}

    with keel_server(env=env, cwd=tmp_path, name="first") as server:
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            assert client.post("/api/v1/users", json=account).status_code == 201
            login = client.post("/api/v1/auth/login", data=credentials)
            assert login.status_code == 200, login.text
            token = login.json()["access_token"]
            bearer = {"Authorization": f"Bearer {token}"}
            assert client.get("/api/v1/users/me", headers=bearer).status_code == 200
        assert_graceful_stop(server)

    secret = tmp_path / "secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600

    with keel_server(env=env, cwd=tmp_path, name="second") as server:
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            me = client.get("/api/v1/users/me", headers=bearer)
            assert me.status_code == 200, me.text
            assert me.json()["email"] == account["email"]
            assert client.post("/api/v1/auth/login", data=credentials).status_code == 200
        assert_graceful_stop(server)


@pytest.mark.postgres
def test_serve_on_postgres(tmp_path: Path, postgres_url: str) -> None:
    env = keel_env(tmp_path, postgres_url)
    keel_ok(tmp_path, postgres_url, "migrate")
    account = {"email": "ada@example.com", "password": PASSWORD, "full_name": "Ada"}
    with keel_server(env=env, cwd=tmp_path) as server:
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            assert client.get("/health/ready").status_code == 200
            assert client.post("/api/v1/users", json=account).status_code == 201
            login = client.post(
                "/api/v1/auth/login", data={"username": account["email"], "password": PASSWORD}
            )
            assert login.status_code == 200, login.text
            bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
            me = client.get("/api/v1/users/me", headers=bearer)
            assert me.status_code == 200, me.text
            assert me.json()["email"] == account["email"]
        assert_graceful_stop(server)


@pytest.mark.redis
async def test_two_servers_sharing_redis_enforce_one_login_limit(
    tmp_path: Path, migrated_sqlite: str, redis_server: RedisServer
) -> None:
    url = redis_server.url(database=3)
    client = Redis.from_url(url)
    await client.flushdb()
    await client.aclose()
    env = keel_env(tmp_path, migrated_sqlite, REDIS_URL=url, LOGIN_RATE_LIMIT="5/minute")
    account = {"email": "ada@example.com", "password": PASSWORD}
    wrong = {"username": account["email"], "password": "wrong password"}

    def run() -> tuple[list[int], httpx.Response]:
        with (
            keel_server(env=env, cwd=tmp_path, name="a") as first,
            keel_server(env=env, cwd=tmp_path, name="b") as second,
            httpx.Client(base_url=first.base_url, timeout=10) as a,
            httpx.Client(base_url=second.base_url, timeout=10) as b,
        ):
            assert a.post("/api/v1/users", json=account).status_code == 201
            statuses = [
                client.post("/api/v1/auth/login", data=wrong).status_code
                for client in (a, b, a, b, a)
            ]
            right = {"username": account["email"], "password": PASSWORD}
            return statuses, b.post("/api/v1/auth/login", data=right)

    statuses, sixth = await asyncio.to_thread(run)
    assert statuses == [401] * 5
    error = sixth.json()["error"]
    assert sixth.status_code == 429, sixth.text
    assert error["code"] == "RATE_LIMITED"
    assert 1 <= int(sixth.headers["retry-after"]) <= 60
