"""What a serving worker loads: Alembic, the Redis client and limits only when they are
used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import sys
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
settings = Settings(_env_file=None, environment="test", database_url="{url}", redis_url={redis})
app = create_app(settings)
app.state.container.login_throttle()
app.state.container.mail_limiter()
loaded = {{name.split(".")[0] for name in sys.modules}}
print(" ".join(sorted(loaded & {{"alembic", "redis", "limits"}})))
"""


@pytest.mark.parametrize(
    ("redis_url", "loaded"), [(None, ""), ("'redis://127.0.0.1:1/0'", "limits redis")]
)
def test_a_worker_loads_neither_alembic_nor_redis_unless_redis_is_configured(
    redis_url: str | None, loaded: str
) -> None:
    script = SCRIPT.format(url="sqlite+aiosqlite:///:memory:", redis=redis_url)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == loaded


def test_a_spawned_worker_answers_pings_before_it_imports_the_application() -> None:
    """Each worker of ``keel serve --workers N`` re-runs the console script's imports, then
    unpickles the server's settings (the http protocol among them), and only then starts the
    thread that answers the supervisor's pings: none of that may load the application."""
    script = (
        "import sys, entrypoints.console, entrypoints.transport\n"
        "heavy = {'fastapi', 'sqlalchemy', 'pydantic', 'typer', 'dependency_injector'}\n"
        "print(' '.join(sorted({name.split('.')[0] for name in sys.modules} & heavy)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_a_worker_that_leaves_its_jobs_to_keel_worker_never_loads_the_queue_library() -> None:
    """Its metrics and readiness read the queue in SQL; only running jobs needs
    procrastinate (and its driver, psycopg)."""
    script = (
        "import sys\n"
        "from entrypoints.http.app import create_app\n"
        "from entrypoints.settings import Settings\n"
        "settings = Settings(_env_file=None, environment='test', jobs_in_process=False,\n"
        "    database_url='postgresql+asyncpg://keel@127.0.0.1:1/keel')\n"
        "app = create_app(settings)\n"
        "app.state.container.job_queue()\n"
        "loaded = {name.split('.')[0] for name in sys.modules}\n"
        "print(' '.join(sorted(loaded & {'procrastinate', 'psycopg', 'psycopg_pool'})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


@pytest.mark.parametrize(
    ("dsn", "loaded"), [(None, ""), ("http://0123abcd@127.0.0.1:9/1", "sentry_sdk")]
)
def test_a_worker_loads_the_sentry_sdk_only_with_a_dsn(
    dsn: str | None, loaded: str, tmp_path: Path
) -> None:
    """Each serving worker starts through ``create_app_from_env``, which sets up error
    reporting; without SENTRY_DSN it must not even import the SDK. (Port 9 discards: nothing
    is sent.)"""
    script = (
        "import sys\n"
        "from entrypoints.http.app import create_app_from_env\n"
        "app = create_app_from_env()\n"
        "app.state.container.job_app()\n"
        "print(' '.join(sorted({name.split('.')[0] for name in sys.modules} & {'sentry_sdk'})))\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "ENVIRONMENT": "test",
        "DATABASE_URL": "sqlite+aiosqlite:///:memory:",
        **({"SENTRY_DSN": dsn} if dsn else {}),
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == loaded
