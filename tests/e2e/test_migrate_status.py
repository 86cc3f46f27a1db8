"""`keel migrate --status` on SQLite reads the file without creating or changing it."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.cli_support import assert_error, keel_env, run_keel, sqlite_url_for, status_of


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
