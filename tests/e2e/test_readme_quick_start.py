"""The README's quick start works as written, against a real `keel serve`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from adapters.sqlalchemy.migrations import AlembicMigrator
from tests.e2e.cli_support import keel_env, keel_server, sqlite_url_for

README = Path(__file__).resolve().parents[2] / "README.md"
TRY_IT = re.compile(r"Try it:\n\n```sh\n(.*?)```", re.DOTALL)


def try_it_commands() -> str:
    found = TRY_IT.search(README.read_text(encoding="utf-8"))
    assert found is not None, "the quick start's 'Try it' block is gone"
    return found.group(1)


@pytest.mark.skipif(shutil.which("curl") is None, reason="the quick start uses curl")
def test_try_it_prints_each_answer_on_a_line_of_its_own(tmp_path: Path) -> None:
    url = sqlite_url_for(tmp_path / "keel.db")
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(AlembicMigrator(url).upgrade).result()
    with keel_server(env=keel_env(tmp_path, url), cwd=tmp_path) as server:
        script = try_it_commands().replace("localhost:8000", server.base_url)
        result = subprocess.run(
            ["bash", "-eo", "pipefail", "-c", script],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("\n"), repr(result.stdout[-80:])
    registered, me = (json.loads(line) for line in result.stdout.splitlines())
    assert registered["email"] == me["email"] == "ada@example.com"
    assert registered["id"] == me["id"]


@pytest.mark.skipif(shutil.which("make") is None, reason="the quick start uses make")
def test_make_serve_takes_the_host_and_port_the_readme_names() -> None:
    assert "make serve HOST=0.0.0.0 PORT=8001" in README.read_text(encoding="utf-8")
    planned = subprocess.run(
        ["make", "-n", "serve", "HOST=0.0.0.0", "PORT=8001"],
        cwd=README.parent,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    assert "keel serve --host 0.0.0.0 --port 8001" in planned
    default = subprocess.run(
        ["make", "-n", "serve"], cwd=README.parent, capture_output=True, text=True, check=True
    ).stdout
    assert "keel serve --host 127.0.0.1 --port 8000" in default
