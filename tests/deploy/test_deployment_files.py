"""The deployment files: Dockerfile, compose.yaml and the Kubernetes manifests in deploy/k8s.

They are read as data and checked against the project itself (its settings, its command line,
its health routes), so that a typo in a variable name or a probe path fails here rather than
in a cluster. Nothing here needs a server; `docker compose config` and `kubectl` are run when
they are installed.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from entrypoints.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"

SETTING_NAMES = frozenset(name.upper() for name in Settings.model_fields)
SECRET_SETTINGS = frozenset(
    {"DATABASE_URL", "JWT_SECRET", "ENCRYPTION_KEY", "REDIS_URL", "SMTP_USER", "SMTP_PASSWORD"}
)
LIVE, READY = "/health/live", "/health/ready"
# Inside a container the server must listen on every interface to be reachable at all.
ALL_INTERFACES = "0.0.0.0"  # noqa: S104
# uvicorn's timeout_graceful_shutdown in `keel serve` (entrypoints/cli/main.py).
GRACEFUL_SHUTDOWN_SECONDS = 20
WORKER_METRICS_PATH = "/metrics"
# After its jobs' grace a worker still closes its pools and the queue's connections.
WORKER_EXIT_MARGIN_SECONDS = 5
# The first step of a rollout (README, Kubernetes): the ConfigMap and the migration Job only.
# `kubectl apply -k deploy/k8s -l 'app.kubernetes.io/component in (config,migration)'`
BEFORE_THE_MIGRATION = frozenset({"config", "migration"})
A_REAL_SECRET = "s" * 48
A_REAL_KEY = "IupzHTMrOXaFMRE85WOTEYIcs3NDLK0WVQIWfYBM1Jc="

Doc = dict[str, Any]


# --- reading the files ---------------------------------------------------------------------


def _load_all(path: Path) -> list[Doc]:
    docs = [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
    assert docs, f"{path.relative_to(ROOT)} holds no document"
    assert all(isinstance(doc, dict) for doc in docs), path
    return docs


def _load(path: Path) -> Doc:
    docs = _load_all(path)
    assert len(docs) == 1, f"{path.relative_to(ROOT)}: expected one document"
    return docs[0]


def _manifest(name: str, kind: str) -> Doc:
    doc = _load(K8S / name)
    assert doc["kind"] == kind, name
    return doc


def _pod_spec(workload: Doc) -> Doc:
    spec: Doc = workload["spec"]["template"]["spec"]
    return spec


def _only_container(workload: Doc) -> Doc:
    containers = _pod_spec(workload)["containers"]
    assert len(containers) == 1, workload["metadata"]["name"]
    container: Doc = containers[0]
    return container


def _command(container: Doc) -> list[str]:
    return [*container.get("command", []), *container.get("args", [])]


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for key, args in self.instructions if key == keyword]


@dataclass
class Dockerfile:
    args: dict[str, str]
    stages: list[Stage]

    @property
    def runtime(self) -> Stage:
        return self.stages[-1]

    def base_of(self, stage: Stage) -> str:
        return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: self.args[m[1] or m[2]], stage.base)


def _instructions(text: str) -> Iterator[tuple[str, str]]:
    """(KEYWORD, arguments) with continuation lines joined and comments dropped."""
    logical = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        logical += line
        keyword, _, rest = logical.partition(" ")
        yield keyword.upper(), " ".join(rest.split())
        logical = ""
    assert not logical, "the Dockerfile ends inside a continued line"


def _dockerfile() -> Dockerfile:
    parsed = Dockerfile(args={}, stages=[])
    for keyword, rest in _instructions(DOCKERFILE.read_text(encoding="utf-8")):
        if keyword == "FROM":
            words = rest.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            parsed.stages.append(Stage(base=words[0], name=name))
        elif not parsed.stages:
            assert keyword == "ARG", f"{keyword} before the first FROM"
            name, _, default = rest.partition("=")
            parsed.args[name] = default
        else:
            parsed.stages[-1].instructions.append((keyword, rest))
    return parsed


def _exec_form(args: str) -> list[str]:
    """A JSON-array instruction (CMD ["a", "b"]); the shell form is refused."""
    assert args.startswith("["), f"use the exec (JSON array) form, not {args!r}"
    value = json.loads(args)
    assert isinstance(value, list)
    return [str(part) for part in value]


def _copied_from_context(stage: Stage) -> list[str]:
    """The build-context paths a stage copies (not those copied from other stages)."""
    sources = []
    for args in stage.all("COPY"):
        words = args.split()
        if any(word.startswith("--from=") for word in words):
            continue
        sources += [word.rstrip("/") for word in words[:-1] if not word.startswith("--")]
    return sources


def _builder() -> Stage:
    return next(s for s in _dockerfile().stages if any("uv sync" in r for r in s.all("RUN")))


def _compose() -> Doc:
    return _load(COMPOSE)


def _pyproject() -> Doc:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _cli_commands() -> dict[str, list[str]]:
    """The `keel` commands and their long options, read from the source (importing the
    command line pulls in the whole application, which is slower than this test file).
    main.py registers them; a command's function may live in another module of the package
    (`app.command()(worker)`, imported from jobs.py)."""
    cli = ROOT / "entrypoints" / "cli"
    tree = ast.parse((cli / "main.py").read_text(encoding="utf-8"))
    modules = [path for path in sorted(cli.glob("*.py")) if path.name != "main.py"]
    functions = {  # main.py's own functions win a clash of names
        node.name: node
        for module in [*modules, cli / "main.py"]
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef)
    }

    def options(function: ast.FunctionDef) -> list[str]:
        """Flags named in typer.Option(...), or else typer's default: --the-parameter."""
        found = []
        for arg in function.args.args:
            named = [
                node.value
                for node in ast.walk(arg.annotation or ast.Constant(None))
                if isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value.startswith("--")
            ]
            found += named or ["--" + arg.arg.replace("_", "-")]
        return found

    commands: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        # @app.command() def serve(...)
        if isinstance(node, ast.FunctionDef) and any(
            isinstance(d, ast.Call)
            and isinstance(d.func, ast.Attribute)
            and d.func.attr == "command"
            for d in node.decorator_list
        ):
            commands[node.name.replace("_", "-")] = options(node)
        # app.command()(migrate) and app.command("create-superuser")(create_superuser)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Call)
            and isinstance(node.func.func, ast.Attribute)
            and node.func.func.attr == "command"
            and node.args
            and isinstance(node.args[0], ast.Name)
        ):
            function = functions[node.args[0].id]
            given = node.func.args
            name = (
                given[0].value
                if given and isinstance(given[0], ast.Constant)
                else function.name.replace("_", "-")
            )
            commands[str(name)] = options(function)
    return commands


def _assert_keel_command(argv: list[str]) -> None:
    """`argv` runs the `keel` console script with a real command and real options."""
    scripts = _pyproject()["project"]["scripts"]
    assert argv[0] in scripts, f"{argv[0]!r} is not a console script of the project"
    commands = _cli_commands()
    assert argv[1] in commands, f"`keel {argv[1]}` is not a command"
    for word in argv[2:]:
        if word.startswith("--"):
            assert word in commands[argv[1]], f"`keel {argv[1]}` has no option {word}"


def _settings_from(values: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings validated from exactly these variables, as the process would read them."""
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)


def _module_constant(path: str, name: str) -> float:
    """A number a module sets at its top, read from the source (importing the job runner
    pulls in procrastinate and the application)."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(target, ast.Name) and target.id == name for target in node.targets)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, int | float)
        ):
            return float(node.value.value)
    raise AssertionError(f"{path} no longer sets {name} to a number")


def _worker_stop_grace() -> float:
    """How long `keel worker` gives the jobs in hand after SIGTERM before it exits."""
    return _module_constant("adapters/jobs/runner.py", "STOP_GRACE_SECONDS")


def _compose_seconds(duration: str) -> float:
    """A Compose duration ("30s", "1m30s", "1m", "500ms") in seconds."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", str(duration))
    assert parts, duration
    assert "".join(n + u for n, u in parts) == str(duration), duration
    scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 0.000001}
    return sum(float(number) * scale[unit] for number, unit in parts)


def _interpolated(env: dict[str, Any]) -> dict[str, str]:
    """A service's environment as Compose would pass it, with JWT_SECRET set and every other
    variable left to its default."""
    variables = {"JWT_SECRET": A_REAL_SECRET, "ENCRYPTION_KEY": A_REAL_KEY}
    pattern = r"\$\{(\w+)(?::?[-?]([^}]*))?\}"
    return {
        name: re.sub(pattern, lambda m: variables.get(m[1], m[2] or ""), str(value))
        for name, value in env.items()
    }


def _filled_secret() -> dict[str, str]:
    template = _manifest("secret.example.yaml", "Secret")["stringData"]
    return {
        "DATABASE_URL": template["DATABASE_URL"].replace("CHANGE-ME", "db"),
        "JWT_SECRET": A_REAL_SECRET,
        "ENCRYPTION_KEY": A_REAL_KEY,
        "REDIS_URL": template["REDIS_URL"].replace("CHANGE-ME", "redis"),
    }


# --- every file ------------------------------------------------------------------------------


def test_every_yaml_file_parses() -> None:
    files = [COMPOSE, *sorted(K8S.glob("*.yaml"))]
    assert {path.name for path in files} >= {
        "compose.yaml",
        "configmap.yaml",
        "secret.example.yaml",
        "deployment.yaml",
        "service.yaml",
        "migration-job.yaml",
        "kustomization.yaml",
        "worker.yaml",
    }
    for path in files:
        _load_all(path)


# --- Dockerfile ----------------------------------------------------------------------------


def test_dockerfile_builds_in_stages_and_runs_on_slim_python() -> None:
    dockerfile = _dockerfile()
    python_stages = [s for s in dockerfile.stages if dockerfile.base_of(s).startswith("python:")]
    assert len(python_stages) >= 2, "a builder stage and a runtime stage"
    runtime_base = dockerfile.base_of(dockerfile.runtime)
    assert re.fullmatch(r"python:3\.\d+-slim(-\w+)?(@sha256:[0-9a-f]{64})?", runtime_base)
    minimum = re.fullmatch(r">=\s*3\.(\d+)", _pyproject()["project"]["requires-python"])
    assert minimum is not None
    assert int(runtime_base.split(".")[1].split("-")[0]) >= int(minimum[1])
    # The virtual environment links to the builder's interpreter: it must be the same one.
    assert all(dockerfile.base_of(s) == runtime_base for s in python_stages)


def test_dockerfile_uses_the_locked_uv_of_the_makefile() -> None:
    dockerfile = _dockerfile()
    pinned = re.search(r"^UV_VERSION\s*:?=\s*(\S+)", (ROOT / "Makefile").read_text(), re.M)
    assert pinned is not None
    uv_images = [dockerfile.base_of(s) for s in dockerfile.stages if "astral-sh/uv" in s.base]
    assert uv_images == [f"ghcr.io/astral-sh/uv:{pinned[1]}"]
    syncs = [run for run in _builder().all("RUN") if "uv sync" in run]
    assert all("--frozen" in run and "--no-dev" in run for run in syncs)
    assert not any("--no-editable" in run for run in syncs), "see the migrations test below"


def test_dockerfile_installs_dependencies_before_copying_the_source() -> None:
    builder = _builder()
    first_sync = next(i for i, (key, args) in enumerate(builder.instructions) if "uv sync" in args)
    assert "--no-install-project" in builder.instructions[first_sync][1]
    before = Stage(builder.base, builder.name, builder.instructions[:first_sync])
    assert sorted(_copied_from_context(before)) == ["pyproject.toml", "uv.lock"]


def test_image_holds_what_keel_migrate_needs() -> None:
    """The project is installed editable, so the source in the image is what runs, and
    `keel migrate` finds migrations/ next to the packages (not inside the wheel)."""
    source = (ROOT / "adapters" / "sqlalchemy" / "migrations.py").read_text(encoding="utf-8")
    assert 'parents[2] / "migrations"' in source, (
        "the migrations are no longer found next to the packages: check the Dockerfile"
    )
    copied = set(_copied_from_context(_builder()))
    packages = _pyproject()["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    needed = {*packages, "migrations", "pyproject.toml", "uv.lock", "README.md"}
    assert needed <= copied
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for name in needed:
        assert (ROOT / name).exists(), name
        assert name not in ignored, f"{name} is excluded from the build context"
    assert (ROOT / "migrations" / "env.py").is_file()
    assert any((ROOT / "migrations" / "versions").glob("*.py"))


def test_dockerignore_keeps_local_state_and_secrets_out() -> None:
    ignored = set((ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    assert {".venv", ".git", ".env", ".keel-jwt-secret", "*.db", ".pytest_cache"} <= ignored


def test_runtime_stage_runs_keel_serve_as_a_fixed_non_root_user() -> None:
    runtime = _dockerfile().runtime
    users = runtime.all("USER")
    assert users, "the runtime stage has no USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit(), "a numeric uid, so that runAsNonRoot can be checked"
    assert int(uid) != 0

    cmd = _exec_form(runtime.all("CMD")[-1])
    assert cmd[:2] == ["keel", "serve"]
    _assert_keel_command(cmd)
    assert cmd[cmd.index("--host") + 1] == ALL_INTERFACES
    port = cmd[cmd.index("--port") + 1]
    assert port in " ".join(runtime.all("EXPOSE")).split()
    assert not runtime.all("ENTRYPOINT"), "CMD is replaced by `docker run IMAGE keel migrate`"


def test_runtime_stage_environment() -> None:
    env = " ".join(_dockerfile().runtime.all("ENV"))
    assert re.search(r"\bENVIRONMENT=production\b", env)
    assert re.search(r"\bPYTHONDONTWRITEBYTECODE=1\b", env)
    assert re.search(r"\bPYTHONUNBUFFERED=1\b", env)


def test_healthcheck_asks_the_liveness_route_with_python() -> None:
    runtime = _dockerfile().runtime
    checks = runtime.all("HEALTHCHECK")
    assert len(checks) == 1
    check = checks[0]
    assert "CMD" in check.split()
    assert "urllib.request" in check
    url = re.search(r"http://([\w.]+):(\d+)(/[\w/]*)", check)
    assert url is not None
    assert url[3] == LIVE
    cmd = _exec_form(runtime.all("CMD")[-1])
    assert url[2] == cmd[cmd.index("--port") + 1]


# --- compose.yaml ----------------------------------------------------------------------------


def test_compose_services_and_their_order() -> None:
    services = _compose()["services"]
    assert {"keel", "migrate", "postgres", "redis"} <= services.keys()

    keel = services["keel"]
    assert keel["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert keel["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert keel["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "8000:8000" in [str(port) for port in keel["ports"]]

    migrate = services["migrate"]
    assert migrate["command"] == ["keel", "migrate"]
    _assert_keel_command(migrate["command"])
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert migrate["restart"] == "no"
    assert migrate["image"] == keel["image"]


def test_compose_databases_have_healthchecks_and_storage() -> None:
    compose = _compose()
    services = compose["services"]
    postgres_check = " ".join(services["postgres"]["healthcheck"]["test"])
    assert "pg_isready" in postgres_check
    assert re.fullmatch(r"postgres:1[67](\.\d+)*(-\w+)?", services["postgres"]["image"])
    assert "redis-cli ping" in " ".join(services["redis"]["healthcheck"]["test"])
    assert re.fullmatch(r"redis:7(\.\d+)*(-\w+)?", services["redis"]["image"])
    volume = services["postgres"]["volumes"][0].split(":")[0]
    assert volume in compose["volumes"], "a named volume keeps the database"


def test_compose_environment_names_real_settings() -> None:
    services = _compose()["services"]
    keel_env, migrate_env = services["keel"]["environment"], services["migrate"]["environment"]
    assert keel_env == migrate_env, "one shared environment (x-keel)"
    assert isinstance(keel_env, dict)
    assert set(keel_env) <= SETTING_NAMES, set(keel_env) - SETTING_NAMES
    assert keel_env["ENVIRONMENT"] == "production"
    assert keel_env["LOG_FORMAT"] == "json"
    assert keel_env["JWT_SECRET"].startswith("${JWT_SECRET:?"), "required, never defaulted"
    assert keel_env["DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert "@postgres:5432/" in keel_env["DATABASE_URL"]
    assert keel_env["REDIS_URL"].startswith("redis://redis:6379")


def test_compose_environment_is_accepted_by_keel(monkeypatch: pytest.MonkeyPatch) -> None:
    env = _compose()["services"]["keel"]["environment"]
    settings = _settings_from(_interpolated(env), monkeypatch)
    assert settings.environment == "production"
    assert settings.redis_url is not None
    # The image's HEALTHCHECK asks for http://localhost:8000 (and production refuses *).
    assert "localhost" in settings.trusted_hosts


def test_compose_worker_runs_keel_worker_after_the_migration() -> None:
    services = _compose()["services"]
    worker, keel = services["worker"], services["keel"]
    assert worker["command"][:2] == ["keel", "worker"]
    _assert_keel_command(worker["command"])
    assert worker["image"] == keel["image"], "the worker runs the API's image"
    assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert worker["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert worker.get("restart") in ("always", "unless-stopped", "on-failure")
    # `docker compose up --scale worker=N` needs no fixed name and no published port.
    assert "container_name" not in worker
    assert "ports" not in worker


def test_compose_worker_shares_the_api_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    services = _compose()["services"]
    api_env, worker_env = services["keel"]["environment"], services["worker"]["environment"]
    assert api_env.items() <= worker_env.items(), "every API setting, with the same value"
    assert set(worker_env) - set(api_env) <= {"WORKER_METRICS_PORT"}
    assert set(worker_env) <= SETTING_NAMES, set(worker_env) - SETTING_NAMES
    settings = _settings_from(_interpolated(worker_env), monkeypatch)
    assert settings.environment == "production"
    assert settings.uses_postgres, "jobs are kept in PostgreSQL"


def test_compose_api_leaves_the_jobs_to_the_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    env = _compose()["services"]["keel"]["environment"]
    assert str(env["JOBS_IN_PROCESS"]).lower() == "false", "said, not left to a default"
    assert _settings_from(_interpolated(env), monkeypatch).effective_jobs_in_process is False


def test_compose_worker_may_finish_its_jobs_when_stopped() -> None:
    worker = _compose()["services"]["worker"]
    # Compose's default is 10 s: SIGKILL would come as the worker's own grace ran out.
    assert (
        _compose_seconds(worker["stop_grace_period"])
        > _worker_stop_grace() + WORKER_EXIT_MARGIN_SECONDS
    )
    assert worker.get("stop_signal", "SIGTERM") == "SIGTERM"


def test_compose_worker_healthcheck_asks_its_own_metrics() -> None:
    """The image's HEALTHCHECK asks for the API on port 8000, which a worker does not
    serve: the worker overrides it, with its metrics port or by turning it off."""
    worker = _compose()["services"]["worker"]
    check = worker["healthcheck"]
    port = worker["environment"].get("WORKER_METRICS_PORT")
    if port is None:
        assert check.get("disable") is True
        return
    command = " ".join(check["test"])
    assert check["test"][0] in ("CMD", "CMD-SHELL")
    assert "urllib.request" in command, "the slim image has no curl"
    url = re.search(r"http://([\w.]+):(\d+)(/[\w/]*)", command)
    assert url is not None
    assert url[1] in ("localhost", "127.0.0.1")
    assert url[2] == str(port)
    assert url[3] == WORKER_METRICS_PATH


def _docker_compose_available() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(
        ["docker", "compose", "version"], capture_output=True, timeout=10, check=False
    )
    return probe.returncode == 0


def test_docker_compose_accepts_the_file() -> None:
    if not _docker_compose_available():
        pytest.skip("no docker client with the compose plugin on PATH")
    result = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        cwd=ROOT,
        env={**os.environ, "JWT_SECRET": A_REAL_SECRET, "ENCRYPTION_KEY": A_REAL_KEY},
    )
    assert result.returncode == 0, result.stderr


# --- Kubernetes ------------------------------------------------------------------------------


def test_kustomization_lists_every_manifest_but_the_secret_template() -> None:
    kustomization = _load(K8S / "kustomization.yaml")
    listed = kustomization["resources"]
    expected = {path.name for path in K8S.glob("*.yaml")} - {
        "kustomization.yaml",
        "secret.example.yaml",
    }
    assert sorted(listed) == sorted(expected)
    images = {image["name"] for image in kustomization.get("images", [])}
    for name in ("deployment.yaml", "migration-job.yaml", "worker.yaml"):
        image = _only_container(_load(K8S / name))["image"]
        assert image in images or ":" in image, f"{name}: image {image!r} has no tag"


def test_deployment_probes_hit_the_health_routes() -> None:
    container = _only_container(_manifest("deployment.yaml", "Deployment"))
    port_names = {port["name"] for port in container["ports"]}

    def probe(kind: str) -> Doc:
        assert kind in container, f"no {kind}"
        http: Doc = container[kind]["httpGet"]
        assert http["port"] in port_names or http["port"] in {
            port["containerPort"] for port in container["ports"]
        }
        return http

    assert probe("livenessProbe")["path"] == LIVE
    assert probe("readinessProbe")["path"] == READY
    assert probe("startupProbe")["path"] == LIVE
    assert container["startupProbe"]["failureThreshold"] >= 5
    # The readiness route gives the database two seconds before answering 503.
    assert container["readinessProbe"].get("timeoutSeconds", 1) > 2


def test_probes_pass_the_trusted_hosts_check() -> None:
    """Probes come with the pod's IP as the host unless told otherwise, which TRUSTED_HOSTS
    would refuse with a 400 and the pod would never become ready."""
    trusted = _manifest("configmap.yaml", "ConfigMap")["data"]["TRUSTED_HOSTS"].split(",")
    trusted = [host.strip().lower() for host in trusted if host.strip()]
    assert "*" not in trusted, "production refuses TRUSTED_HOSTS=*"
    container = _only_container(_manifest("deployment.yaml", "Deployment"))
    for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
        headers = {
            h["name"].lower(): h["value"] for h in container[kind]["httpGet"].get("httpHeaders", [])
        }
        assert "host" in headers, f"{kind} sends no Host header"
        host = headers["host"].split(":")[0].lower()
        assert host in trusted or any(
            t.startswith("*.") and host.endswith(t[1:]) for t in trusted
        ), f"{kind}: {host} is not in TRUSTED_HOSTS"


def test_deployment_serves_the_image_command_on_port_http() -> None:
    deployment = _manifest("deployment.yaml", "Deployment")
    assert deployment["spec"]["replicas"] >= 2
    container = _only_container(deployment)
    command = _command(container) or _exec_form(_dockerfile().runtime.all("CMD")[-1])
    assert command[:2] == ["keel", "serve"]
    _assert_keel_command(command)
    http = next(port for port in container["ports"] if port["name"] == "http")
    assert str(http["containerPort"]) == command[command.index("--port") + 1]
    assert command[command.index("--host") + 1] == ALL_INTERFACES


def test_service_routes_port_80_to_the_pods_http_port() -> None:
    service = _manifest("service.yaml", "Service")
    deployment = _manifest("deployment.yaml", "Deployment")
    assert service["spec"].get("type", "ClusterIP") == "ClusterIP"
    (port,) = service["spec"]["ports"]
    assert port["port"] == 80
    container_ports = {p["name"]: p["containerPort"] for p in _only_container(deployment)["ports"]}
    assert port["targetPort"] in container_ports, "targetPort names a container port"
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = service["spec"]["selector"]
    assert selector.items() <= pod_labels.items(), "the Service selects the Deployment's pods"
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    job_labels = _manifest("migration-job.yaml", "Job")["spec"]["template"]["metadata"]["labels"]
    assert not selector.items() <= job_labels.items(), "the Service must not select the Job"


def test_deployment_drains_before_it_stops() -> None:
    spec = _pod_spec(_manifest("deployment.yaml", "Deployment"))
    container = spec["containers"][0]
    pre_stop = container["lifecycle"]["preStop"]
    if "sleep" in pre_stop:
        pause = int(pre_stop["sleep"]["seconds"])
    else:
        command = pre_stop["exec"]["command"]
        assert command[0] == "sleep"
        pause = int(command[1])
    assert 1 <= pause <= 15
    grace = spec["terminationGracePeriodSeconds"]
    assert grace > pause + GRACEFUL_SHUTDOWN_SECONDS


@pytest.mark.parametrize("name", ["deployment.yaml", "migration-job.yaml", "worker.yaml"])
def test_workloads_are_locked_down(name: str) -> None:
    workload = _load(K8S / name)
    pod, container = _pod_spec(workload), _only_container(workload)
    security = {**pod.get("securityContext", {}), **container["securityContext"]}
    assert security["runAsNonRoot"] is True
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    if "runAsUser" in security:
        uid = _dockerfile().runtime.all("USER")[-1].split(":")[0]
        assert str(security["runAsUser"]) == uid, "the image's own user"
        assert security["runAsUser"] != 0
    resources = container["resources"]
    for bound in ("requests", "limits"):
        assert {"cpu", "memory"} <= resources[bound].keys(), f"{name}: resources.{bound}"
    # The root filesystem is read-only: anything that writes gets an emptyDir.
    mounts = {mount["mountPath"]: mount["name"] for mount in container.get("volumeMounts", [])}
    volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
    for path, volume in mounts.items():
        assert "emptyDir" in volumes[volume], f"{name}: {path} is not an emptyDir"


@pytest.mark.parametrize("name", ["deployment.yaml", "migration-job.yaml", "worker.yaml"])
def test_workloads_read_the_configmap_and_the_secret(name: str) -> None:
    container = _only_container(_load(K8S / name))
    refs = {
        kind: source[kind]["name"]
        for source in container["envFrom"]
        for kind in ("configMapRef", "secretRef")
        if kind in source
    }
    assert refs == {
        "configMapRef": _manifest("configmap.yaml", "ConfigMap")["metadata"]["name"],
        "secretRef": _manifest("secret.example.yaml", "Secret")["metadata"]["name"],
    }
    assert "env" not in container or all(var["name"] in SETTING_NAMES for var in container["env"])


def test_migration_job_runs_keel_migrate_once() -> None:
    job = _manifest("migration-job.yaml", "Job")
    container = _only_container(job)
    assert _command(container) == ["keel", "migrate"]
    _assert_keel_command(_command(container))
    spec = job["spec"]
    assert 0 <= spec["backoffLimit"] <= 6
    assert spec["ttlSecondsAfterFinished"] > 0
    assert _pod_spec(job)["restartPolicy"] in ("Never", "OnFailure")
    deployment_image = _only_container(_manifest("deployment.yaml", "Deployment"))["image"]
    assert container["image"] == deployment_image, "migrations come from the image they serve"


def test_configmap_holds_real_non_secret_settings() -> None:
    data = _manifest("configmap.yaml", "ConfigMap")["data"]
    assert set(data) <= SETTING_NAMES, set(data) - SETTING_NAMES
    assert not set(data) & SECRET_SETTINGS, "secrets belong in the Secret"
    assert all(isinstance(value, str) for value in data.values()), "ConfigMap values are text"
    assert data["ENVIRONMENT"] == "production"


def test_secret_template_is_a_template_of_real_settings() -> None:
    secret = _manifest("secret.example.yaml", "Secret")
    assert "data" not in secret
    values = secret["stringData"]
    assert set(values) == SECRET_SETTINGS
    assert all("CHANGE-ME" in value for value in values.values())


def test_manifests_make_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ConfigMap and a filled-in Secret pass Keel's own validation; the template as it
    stands does not (its JWT_SECRET is too short), so it cannot go live by mistake."""
    data = _manifest("configmap.yaml", "ConfigMap")["data"]
    template = _manifest("secret.example.yaml", "Secret")["stringData"]
    with pytest.raises(ValidationError, match="jwt_secret"):
        _settings_from({**data, **template}, monkeypatch)
    settings = _settings_from({**data, **_filled_secret()}, monkeypatch)
    assert settings.environment == "production"
    assert settings.effective_log_format == "json"
    assert settings.database_url.startswith("postgresql+asyncpg://")


def test_migration_can_be_applied_before_the_deployments() -> None:
    """The documented first step, `kubectl apply -k deploy/k8s -l
    'app.kubernetes.io/component in (config,migration)'`, selects the ConfigMap and the Job,
    and nothing else: neither the API nor the worker runs before the schema is new."""
    selected = set()
    for name in _load(K8S / "kustomization.yaml")["resources"]:
        doc = _load(K8S / name)
        component = doc["metadata"].get("labels", {}).get("app.kubernetes.io/component")
        if component in BEFORE_THE_MIGRATION:
            selected.add((doc["kind"], doc["metadata"]["name"]))
    assert selected == {("ConfigMap", "keel-config"), ("Job", "keel-migrate")}


def test_worker_deployment_runs_keel_worker_beside_the_api() -> None:
    worker = _manifest("worker.yaml", "Deployment")
    api = _manifest("deployment.yaml", "Deployment")
    assert worker["spec"]["replicas"] >= 2
    container = _only_container(worker)
    command = _command(container)
    assert command[:2] == ["keel", "worker"]
    _assert_keel_command(command)
    assert container["image"] == _only_container(api)["image"]
    assert container["envFrom"] == _only_container(api)["envFrom"], "the API's settings"
    pod_labels = worker["spec"]["template"]["metadata"]["labels"]
    assert worker["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    api_selector = api["spec"]["selector"]["matchLabels"]
    assert not api_selector.items() <= pod_labels.items(), "two Deployments, two sets of pods"
    service_selector = _manifest("service.yaml", "Service")["spec"]["selector"]
    assert not service_selector.items() <= pod_labels.items(), "no API traffic to workers"


def test_worker_deployment_is_locked_down_like_the_api() -> None:
    worker, api = _manifest("worker.yaml", "Deployment"), _manifest("deployment.yaml", "Deployment")
    assert _pod_spec(worker)["securityContext"] == _pod_spec(api)["securityContext"]
    worker_container, api_container = _only_container(worker), _only_container(api)
    assert worker_container["securityContext"] == api_container["securityContext"]
    assert worker_container["resources"] == api_container["resources"]
    assert _pod_spec(worker).get("automountServiceAccountToken") is False


def test_worker_may_finish_its_jobs_when_stopped() -> None:
    spec = _pod_spec(_manifest("worker.yaml", "Deployment"))
    pre_stop = spec["containers"][0].get("lifecycle", {}).get("preStop")
    pause = 0
    if pre_stop is not None:
        pause = int(
            pre_stop["sleep"]["seconds"] if "sleep" in pre_stop else pre_stop["exec"]["command"][1]
        )
    # Kubernetes' default is 30 s; say it, and keep it above the worker's own grace.
    grace = spec["terminationGracePeriodSeconds"]
    assert grace > pause + _worker_stop_grace() + WORKER_EXIT_MARGIN_SECONDS


def test_worker_serves_metrics_to_its_liveness_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    worker = _manifest("worker.yaml", "Deployment")
    container = _only_container(worker)
    env = {var["name"]: var["value"] for var in container.get("env", [])}
    port = int(env["WORKER_METRICS_PORT"])
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"metrics": port}
    probe = container["livenessProbe"]["httpGet"]
    assert probe["path"] == WORKER_METRICS_PATH
    assert probe["port"] in ("metrics", port)
    # Scraped like the API's pods are, if they are scraped by annotation at all.
    api_annotations = _manifest("deployment.yaml", "Deployment")["spec"]["template"]["metadata"]
    scrape = {k: v for k, v in api_annotations.get("annotations", {}).items() if "prometheus" in k}
    annotations = worker["spec"]["template"]["metadata"].get("annotations", {})
    assert scrape.keys() <= annotations.keys()
    if "prometheus.io/port" in annotations:
        assert str(annotations["prometheus.io/port"]) == str(port)
    data = _manifest("configmap.yaml", "ConfigMap")["data"]
    settings = _settings_from({**data, **_filled_secret(), **env}, monkeypatch)
    assert settings.worker_metrics_port == port


def test_configmap_leaves_the_jobs_to_the_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _manifest("configmap.yaml", "ConfigMap")["data"]
    assert data["JOBS_IN_PROCESS"] == "false", "said, not left to a default"
    settings = _settings_from({**data, **_filled_secret()}, monkeypatch)
    assert settings.effective_jobs_in_process is False
    # The API takes its settings from this ConfigMap alone (and the Secret).
    assert "JOBS_IN_PROCESS" not in {
        var["name"]
        for var in _only_container(_manifest("deployment.yaml", "Deployment")).get("env", [])
    }


def _kubectl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["kubectl", *args], capture_output=True, text=True, timeout=60, check=False, cwd=ROOT
    )


def test_kubectl_renders_the_kustomization() -> None:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not on PATH")
    result = _kubectl("kustomize", str(K8S))
    assert result.returncode == 0, result.stderr
    kinds = sorted(doc["kind"] for doc in yaml.safe_load_all(result.stdout) if doc)
    assert kinds == ["ConfigMap", "Deployment", "Deployment", "Job", "Service"]


def test_kubectl_client_dry_run() -> None:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not on PATH")
    version = _kubectl("version", "--request-timeout=3s", "-o", "json")
    if "serverVersion" not in version.stdout:
        pytest.skip("kubectl apply --dry-run=client needs a reachable API server; none answered")
    result = _kubectl("apply", "--dry-run=client", "-k", str(K8S))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip(), "nothing was applied"
