"""The files a fork or a contributor relies on: CI, dependabot, pre-commit, licence, changelog.

They are read as data and checked against the project (the Makefile's targets, pyproject.toml,
the packages), so that a workflow that stopped running the tests or a licence that disagrees
with the package metadata fails here.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import tomllib
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "application", "adapters", "entrypoints")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _yaml(relative: str) -> dict[str, Any]:
    doc = yaml.safe_load((ROOT / relative).read_text(encoding="utf-8"))
    assert isinstance(doc, dict), relative
    return doc


def _audit_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("keel_audit", ROOT / "scripts" / "audit.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_workflow_runs_make_test_as_root_like_ci_run() -> None:
    workflow = _yaml(".github/workflows/ci.yml")
    # YAML 1.1 reads the bare key `on` as true.
    triggers = workflow.get("on", workflow.get(True))
    assert {"push", "pull_request"} <= set(triggers)
    runs = [
        (job, step["run"])
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if "run" in step
    ]
    test_runs = [(job, run) for job, run in runs if re.search(r"\bmake test\b", run)]
    assert test_runs, "no step runs `make test`"
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for job, run in test_runs:
        # scripts/ensure-servers.sh installs the servers with apt-get, which needs root.
        as_root = "container" in job and "user" not in job.get("options", "")
        assert as_root or run.lstrip().startswith("sudo "), job


def test_dependabot_watches_the_lock_and_the_actions() -> None:
    config = _yaml(".github/dependabot.yml")
    assert config["version"] == 2
    ecosystems = {update["package-ecosystem"]: update for update in config["updates"]}
    assert {"uv", "github-actions"} <= set(ecosystems)
    assert ecosystems["uv"]["directory"] == "/"
    assert (ROOT / "uv.lock").is_file()


def test_pre_commit_runs_the_locked_tools_of_make_check() -> None:
    config = _yaml(".pre-commit-config.yaml")
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert all(repo["repo"] == "local" for repo in config["repos"])
    for hook in hooks.values():
        assert hook["entry"].startswith(".venv/bin/"), hook["id"]
        assert hook["language"] == "system", hook["id"]
    assert "ruff check" in hooks["ruff-check"]["entry"]
    assert "ruff format --check" in hooks["ruff-format"]["entry"]
    mypy = hooks["mypy"]["entry"].split()
    assert "--strict" in mypy
    assert set(PACKAGES) <= set(mypy)


def test_the_licence_is_the_mit_licence_pyproject_names() -> None:
    assert PYPROJECT["project"]["license"] == {"text": "MIT"}
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License\n")
    assert re.search(r"^Copyright \(c\) \d{4} Keel contributors$", licence, re.MULTILINE)
    assert "Permission is hereby granted, free of charge" in licence


def test_contributing_and_changelog_are_linked_and_in_shape() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "](CONTRIBUTING.md)" in readme
    contributing = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    headings = {
        re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in readme.splitlines()
        if line.startswith("## ")
    }
    for anchor in re.findall(r"\]\(README\.md#([^)]+)\)", contributing):
        assert anchor in headings, anchor
    assert {"tests", "architecture"} <= set(re.findall(r"README\.md#([^)]+)", contributing))
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "keepachangelog.com" in changelog
    assert re.search(r"^## \[Unreleased\]\n", changelog, re.MULTILINE)


def test_every_package_is_marked_typed_and_the_wheel_carries_the_markers(
    tmp_path: Path,
) -> None:
    assert tuple(PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]) == PACKAGES
    for package in PACKAGES:
        assert (ROOT / package / "py.typed").is_file(), package
    uv = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    if not Path(uv).exists():
        pytest.skip("uv is not installed: the wheel is not built")
    subprocess.run(
        [uv, "build", "--wheel", "--quiet", "--out-dir", str(tmp_path), str(ROOT)],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"{package}/py.typed" for package in PACKAGES} <= names


def test_make_audit_feeds_the_locked_dependencies_to_the_audit_script() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\naudit:", 1)[1].split("\n\n", 1)[0]
    assert "pipefail" in recipe
    assert "export --frozen" in recipe
    assert "scripts/audit.py" in recipe


def test_an_audit_that_checked_nothing_fails_in_one_line() -> None:
    audit = _audit_script()
    unchecked = {
        "dependencies": [
            {"name": name, "skip_reason": f"Dependency not found on PyPI: {name}"}
            for name in ("fastapi", "redis")
        ],
        "fixes": [],
    }
    status, lines = audit.verdict(unchecked)
    assert status == 1
    assert len(lines) == 1
    assert lines[0].startswith("error: the advisory database could not be reached: 2 of 2")
    one_unchecked = {
        "dependencies": [
            {"name": "fastapi", "version": "1.0", "vulns": []},
            {"name": "redis", "skip_reason": "Dependency not found on PyPI: redis"},
        ]
    }
    assert audit.verdict(one_unchecked)[0] == 1
    assert audit.verdict({"dependencies": []})[0] == 1


def test_an_audit_reports_vulnerabilities_and_passes_only_when_all_were_checked() -> None:
    audit = _audit_script()
    clean = {"dependencies": [{"name": "fastapi", "version": "1.0", "vulns": []}]}
    assert audit.verdict(clean) == (
        0,
        ["1 locked dependencies audited: no known vulnerabilities"],
    )
    vulnerable = {
        "dependencies": [
            {
                "name": "fastapi",
                "version": "1.0",
                "vulns": [{"id": "PYSEC-1", "fix_versions": ["1.1"]}],
            }
        ]
    }
    status, lines = audit.verdict(vulnerable)
    assert status == 1
    assert lines == ["error: 1 known vulnerabilities", "fastapi 1.0: PYSEC-1 (fixed in 1.1)"]
