"""What the command line loads: `keel --help` no framework at all, `keel migrate` only
the settings and the migrator, `keel migrate --status` not even Alembic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import sys
from entrypoints.console import main
sys.argv = ["keel", *{args!r}]
try:
    main()
except SystemExit:
    pass
heavy = {{"fastapi", "starlette", "sqlalchemy", "alembic", "pydantic", "pydantic_settings",
         "dependency_injector", "structlog", "argon2", "jwt", "redis", "uvicorn", "zxcvbn",
         "procrastinate", "prometheus_client"}}
print(" ".join(sorted({{name.split(".")[0] for name in sys.modules}} & heavy)), file=sys.stderr)
"""


def loaded_by(args: list[str], tmp_path: Path, **env: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(args=args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **env},
    )
    assert "Traceback" not in result.stderr, result.stderr
    return set(result.stderr.strip().splitlines()[-1].split()) if result.stderr.strip() else set()


def test_keel_help_loads_no_framework(tmp_path: Path) -> None:
    assert loaded_by(["--help"], tmp_path) == set()


def test_keel_migrate_status_loads_neither_alembic_nor_the_web_framework(
    tmp_path: Path,
) -> None:
    loaded = loaded_by(
        ["migrate", "--status"],
        tmp_path,
        ENVIRONMENT="test",
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'keel.db'}",
    )
    assert "pydantic_settings" in loaded  # it did run
    # On SQLite not even SQLAlchemy: the standard library's driver reads the revision.
    assert loaded.isdisjoint(
        {"alembic", "sqlalchemy", "fastapi", "starlette", "dependency_injector", "argon2", "jwt"}
    )


def test_keel_migrate_status_on_postgresql_loads_asyncpg_alone(tmp_path: Path) -> None:
    from harness.ports import free_port

    loaded = loaded_by(
        ["migrate", "--status"],
        tmp_path,
        ENVIRONMENT="test",
        # Nothing listens there: the command fails at once, after its imports.
        DATABASE_URL=f"postgresql+asyncpg://keel:secret@127.0.0.1:{free_port()}/keel",
    )
    assert "pydantic_settings" in loaded  # it did run
    assert loaded.isdisjoint({"alembic", "sqlalchemy", "fastapi", "starlette", "argon2"})


def test_keel_migrate_loads_alembic_but_not_the_web_framework(tmp_path: Path) -> None:
    loaded = loaded_by(
        ["migrate"],
        tmp_path,
        ENVIRONMENT="test",
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'keel.db'}",
    )
    assert {"alembic", "pydantic_settings"} <= loaded  # it did run
    assert loaded.isdisjoint({"fastapi", "starlette", "dependency_injector", "argon2", "jwt"})
