"""The migration chain read from the files' text is the one Alembic finds."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from adapters.sqlalchemy.current_revision import sqlite_database
from adapters.sqlalchemy.migrations import MIGRATIONS_DIR
from adapters.sqlalchemy.revisions import read_chain


def alembic_chain() -> list[str]:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(config)
    return [rev.revision for rev in script.walk_revisions("base", "heads")][::-1]


def test_the_chain_is_alembics() -> None:
    chain = read_chain()
    assert list(chain.revisions) == alembic_chain()
    assert chain.head == alembic_chain()[-1]


def test_position_counts_the_applied_migrations() -> None:
    chain = read_chain()
    assert chain.position(None) == 0
    assert chain.position(chain.revisions[0]) == 1
    assert chain.position(chain.head) == len(chain.revisions)
    assert chain.knows(chain.revisions[2])
    assert not chain.knows("f00dfeed1234")


def write(directory: Path, name: str, body: str) -> None:
    (directory / name).write_text(body, encoding="utf-8")


def test_plain_and_annotated_assignments_in_any_file_order(tmp_path: Path) -> None:
    write(tmp_path, "a.py", 'revision = "b2"\ndown_revision = "a1"\n')
    write(tmp_path, "b.py", 'revision: str = "a1"\ndown_revision: str | None = None\n')
    write(tmp_path, "c.py", '"""Not a migration."""\n')
    assert read_chain(tmp_path).revisions == ("a1", "b2")


def test_a_branch_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.py", 'revision = "a1"\ndown_revision = None\n')
    write(tmp_path, "b.py", 'revision = "b1"\ndown_revision = "a1"\n')
    write(tmp_path, "c.py", 'revision = "c1"\ndown_revision = "a1"\n')
    with pytest.raises(ValueError, match="one straight chain"):
        read_chain(tmp_path)


@pytest.mark.parametrize(
    ("url", "database"),
    [
        ("sqlite+aiosqlite:///keel.db", "keel.db"),
        ("sqlite+aiosqlite:////var/lib/keel/keel.db", "/var/lib/keel/keel.db"),
        ("sqlite://", ""),
        ("sqlite+aiosqlite:///:memory:", ":memory:"),
        ("sqlite+aiosqlite:///k.db?mode=ro", None),  # options: SQLAlchemy reads those
        ("sqlite+aiosqlite:///a%20b.db", None),
        ("postgresql+asyncpg://u:p@db/keel", None),
    ],
)
def test_which_urls_sqlite_reads_itself(url: str, database: str | None) -> None:
    assert sqlite_database(url) == database
