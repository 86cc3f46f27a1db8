"""The whole OpenAPI document against the real app on PostgreSQL, with schemathesis.

`keel serve` runs in production mode on a fresh PostgreSQL database. `schemathesis run` tests
every operation of the document that `keel openapi` writes: its examples, generated valid
and invalid input (the coverage and fuzzing phases), and sequences of calls along the
document's links (the stateful phase). It runs once acting as an ordinary user and once as
an administrator (`hooks.py`), with every check schemathesis has (`schemathesis.toml`): no
5xx, every answer's status, content type, headers and body as documented, invalid input
refused, valid input accepted, created resources readable, deleted ones gone, requests
without credentials refused.

`KEEL_CONTRACT_EXAMPLES` sets the generated cases per operation and phase (default 25);
`KEEL_CONTRACT_SEED` the seed (default fixed, so a run can be repeated; `random` for a new
one each time).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.cli_support import KEEL, Server, assert_ok, keel_server, run_keel
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.postgres

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
SCHEMATHESIS = KEEL.with_name("schemathesis")
PASSWORD = "contract run passphrase"
EXAMPLES = os.environ.get("KEEL_CONTRACT_EXAMPLES", "25")
SEED = os.environ.get("KEEL_CONTRACT_SEED", "20261123")
RUN_TIMEOUT = 600


@dataclass
class Target:
    server: Server
    env: dict[str, str]
    document: Path


@pytest.fixture(scope="module")
def target(
    postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    workdir = tmp_path_factory.mktemp("contract")
    name = f"keel_contract_{uuid.uuid4().hex[:12]}"
    postgres_server.create_database(name)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "ENVIRONMENT": "production",
        "DATABASE_URL": postgres_server.url(name),
        "TRUSTED_HOSTS": "127.0.0.1,localhost",
        "JWT_SECRET": secrets.token_urlsafe(48),
        "ENCRYPTION_KEY": "IupzHTMrOXaFMRE85WOTEYIcs3NDLK0WVQIWfYBM1Jc=",
        # The run logs in again and again, and fails logins on purpose: throttling is
        # tested elsewhere, here it would only stand in the way.
        "LOGIN_RATE_LIMIT": "1000000/minute",
        "LOGIN_ADDRESS_RATE_LIMIT": "1000000/minute",
        "REGISTRATION_RATE_LIMIT": "1000000/minute",
        "PASSWORD_HASH_THREADS": "2",
    }
    try:
        assert_ok(run_keel(["migrate"], env=env, cwd=workdir))
        document = workdir / "openapi.json"
        assert_ok(run_keel(["openapi", "--output", str(document)], env=env, cwd=workdir))
        with keel_server(env=env, cwd=workdir) as server:
            yield Target(server, env, document)
    finally:
        postgres_server.drop_database(name)


def run_schemathesis(target: Target, role: str, *options: str) -> None:
    seed = [] if SEED == "random" else ["--seed", SEED]
    env = {
        **target.env,
        "PYTHONPATH": str(ROOT),
        "SCHEMATHESIS_HOOKS": "tests.contract.hooks",
        "KEEL_CONTRACT_BASE_URL": target.server.base_url,
        "KEEL_CONTRACT_ROLE": role,
        "KEEL_CONTRACT_PASSWORD": PASSWORD,
    }
    command = [
        str(SCHEMATHESIS),
        "--no-color",
        "--config-file",
        str(HERE / "schemathesis.toml"),
        "run",
        str(target.document),
        "--url",
        target.server.base_url,
        "--max-examples",
        EXAMPLES,
        *seed,
        *options,
    ]
    result = subprocess.run(
        command,
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, f"schemathesis failed as {role}:\n{report}"
    # Every operation was tested, in every phase, and the run did not stop early.
    assert _tested_all(report), report
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in report, f"{phase} did not pass as {role}:\n{report}"
    server_log = target.server.output()
    assert "Traceback" not in server_log, server_log[-5000:]


def _tested_all(report: str) -> bool:
    selected = tested = None
    for line in report.splitlines():
        text = line.strip()
        if text.startswith("Selected:"):
            selected = text.split(":", 1)[1].split("/")[0].strip()
        elif text.startswith("Tested:"):
            tested = text.split(":", 1)[1].strip()
    return selected is not None and selected == tested


def test_the_document_holds_for_an_ordinary_user(target: Target) -> None:
    # A user cannot read the accounts it registers (404 for anyone but the account and
    # administrators): that resources created are readable is checked by the admin run.
    run_schemathesis(target, "user", "--exclude-checks", "ensure_resource_availability")


def test_the_document_holds_for_an_administrator(target: Target) -> None:
    run_schemathesis(target, "admin")
