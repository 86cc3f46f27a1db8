"""Where the schema stands, read without Alembic: ``keel migrate --status`` answers at once,
and readiness can say how far behind a database is.

The migration files are read as text (their ``revision`` and ``down_revision`` assignments),
not imported: importing Alembic costs a fifth of a second. A unit test checks that the
chain read here is the one Alembic's ``ScriptDirectory`` finds."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

VERSIONS_DIR = Path(__file__).resolve().parents[2] / "migrations" / "versions"
VERSION_TABLE = "alembic_version"
CURRENT_REVISION_SQL = f"SELECT version_num FROM {VERSION_TABLE}"  # noqa: S608 (a constant)


@dataclass(frozen=True, slots=True)
class MigrationChain:
    """This code's migrations, oldest first (one straight line: Keel has no branches)."""

    revisions: tuple[str, ...]

    @property
    def head(self) -> str | None:
        return self.revisions[-1] if self.revisions else None

    def knows(self, revision: str) -> bool:
        return revision in self.revisions

    def position(self, revision: str | None) -> int:
        """How many migrations a database at ``revision`` has applied (0 for none)."""
        return 0 if revision is None else self.revisions.index(revision) + 1


def read_chain(directory: Path = VERSIONS_DIR) -> MigrationChain:
    """The chain from ``down_revision`` links, from the base up."""
    below: dict[str | None, str] = {}
    count = 0
    for path in sorted(directory.glob("*.py")):
        found = _assignments(path)
        if "revision" in found:
            below[found.get("down_revision")] = str(found["revision"])
            count += 1
    chain: list[str] = []
    revision = below.get(None)
    while revision is not None:
        chain.append(revision)
        revision = below.get(revision)
    if len(chain) != count:
        raise ValueError(f"the migrations in {directory} do not form one straight chain")
    return MigrationChain(tuple(chain))


def _assignments(path: Path) -> dict[str, str | None]:
    """The module-level string (or None) values of ``revision`` and ``down_revision``."""
    found: dict[str, str | None] = {}
    for node in ast.parse(path.read_text(encoding="utf-8"), filename=str(path)).body:
        target, value = _target_and_value(node)
        if target not in ("revision", "down_revision") or not isinstance(value, ast.Constant):
            continue
        if value.value is None or isinstance(value.value, str):
            found[target] = value.value
    return found


def _target_and_value(node: ast.stmt) -> tuple[str | None, ast.expr | None]:
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id, node.value
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
        if isinstance(target, ast.Name):
            return target.id, node.value
    return None, None
