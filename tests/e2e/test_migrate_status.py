"""`keel migrate --status` on SQLite reads the file without creating or changing it; on
PostgreSQL it names the database without its password."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.e2e.cli_support import (
    assert_error,
    free_port,
    keel_env,
    run_keel,
    sqlite_url_for,
    status_of,
)


def test_a_missing_file_is_base_and_stays_missing(tmp_path: Path) -> None:
    path = tmp_path / "not-yet.db"
    result = run_keel(
        ["migrate", "--status"], env=keel_env(tmp_path, sqlite_url_for(path)), cwd=tmp_path
    )
    assert status_of(result)["current"] == "base"
    assert not path.exists()


def test_a_file_that_is_not_a_database_is_one_error_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("not a database, only some notes of mine\n" * 20)
    result = run_keel(
        ["migrate", "--status"], env=keel_env(tmp_path, sqlite_url_for(path)), cwd=tmp_path
    )
    assert_error(result, "cannot use the database at", "not a database")


@pytest.mark.postgres
def test_on_postgresql_status_and_its_failures_name_the_database_without_its_password(
    tmp_path: Path, postgres_url: str
) -> None:
    url = make_url(postgres_url).set(password="hunter2-secret")
    behind = run_keel(
        ["migrate", "--status"],
        env=keel_env(tmp_path, url.render_as_string(hide_password=False)),
        cwd=tmp_path,
    )
    assert status_of(behind)["current"] == "base"

    refused = url.set(port=free_port()).render_as_string(hide_password=False)
    result = run_keel(["migrate", "--status"], env=keel_env(tmp_path, refused), cwd=tmp_path)
    line = assert_error(result, "cannot use the database at", ":***@")
    assert "hunter2-secret" not in result.stdout + result.stderr, line

    missing = url.set(database="no_such_database").render_as_string(hide_password=False)
    result = run_keel(["migrate", "--status"], env=keel_env(tmp_path, missing), cwd=tmp_path)
    assert_error(result, "cannot use the database at", "does not exist")
    assert "hunter2-secret" not in result.stdout + result.stderr
