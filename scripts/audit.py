"""`make audit`: pip-audit over the locked dependencies, read from standard input.

pip-audit reports "No known vulnerabilities found" and exits 0 when every package was
skipped because the advisory service did not answer for it (a mirror or proxy in front of
PyPI answers 404): that is no audit at all. Any package left unchecked fails here, in one line.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

UNREACHABLE = "error: the advisory database could not be reached"


def verdict(report: dict[str, Any]) -> tuple[int, list[str]]:
    """The exit status and the lines to print for pip-audit's JSON report."""
    dependencies: list[dict[str, Any]] = report.get("dependencies", [])
    skipped = [dep for dep in dependencies if dep.get("skip_reason")]
    if not dependencies or skipped:
        first = skipped[0]["skip_reason"] if skipped else "no dependency was audited"
        return 1, [
            f"{UNREACHABLE}: {len(skipped)} of {len(dependencies)} locked dependencies "
            f"not checked ({first})"
        ]
    found = [
        f"{dep['name']} {dep['version']}: {vuln['id']} "
        f"(fixed in {', '.join(vuln['fix_versions']) or 'no release'})"
        for dep in dependencies
        for vuln in dep.get("vulns", [])
    ]
    if found:
        return 1, [f"error: {len(found)} known vulnerabilities", *found]
    return 0, [f"{len(dependencies)} locked dependencies audited: no known vulnerabilities"]


def main() -> int:
    with tempfile.TemporaryDirectory() as work:
        requirements, output = Path(work) / "requirements.txt", Path(work) / "audit.json"
        requirements.write_text(sys.stdin.read(), encoding="utf-8")
        run = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
            [
                sys.executable,
                "-m",
                "pip_audit",
                "--requirement",
                str(requirements),
                "--disable-pip",
                "--progress-spinner",
                "off",
                "--format",
                "json",
                "--output",
                str(output),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        try:
            report = json.loads(output.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            # pip-audit stopped before writing its report: a connection error's traceback.
            last = (run.stderr.strip().splitlines() or ["no output"])[-1]
            print(f"{UNREACHABLE} (pip-audit: {last})", file=sys.stderr)
            return 1
    status, lines = verdict(report)
    print("\n".join(lines), file=sys.stderr if status else sys.stdout)
    return status


if __name__ == "__main__":
    sys.exit(main())
