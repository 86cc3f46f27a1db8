"""Tracing costs nothing when it is off: a serving worker started without an OTLP endpoint
(or with ``OTEL_SDK_DISABLED=true``) never imports OpenTelemetry's SDK, exporter,
instrumentations or protobuf, so it cannot send a span, however many requests it serves and
jobs it runs. (OpenTelemetry's API alone is FastAPI's own import: its native telemetry,
idle while no provider is set.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import sys
from fastapi.testclient import TestClient
from entrypoints.http.app import create_app_from_env
app = create_app_from_env()
with TestClient(app) as client:  # the lifespan too: jobs run in this process
    assert client.get("/health/live").status_code == 200
    assert client.get("/api/v1/users/me").status_code == 401
    app.state.container.email_sender()
    app.state.container.job_app()
heavy = ("opentelemetry.sdk", "opentelemetry.exporter", "opentelemetry.instrumentation",
         "opentelemetry.proto", "google.protobuf")
loaded = {name for name in heavy if name in sys.modules}
print(" ".join(sorted(name.split(".")[0] for name in loaded)))
"""
ON = "google opentelemetry opentelemetry opentelemetry opentelemetry"
ENDPOINT = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"}


@pytest.mark.parametrize(
    ("otel", "loaded"),
    [
        ({}, ""),
        ({"OTEL_TRACES_SAMPLER": "always_on", "OTEL_SERVICE_NAME": "keel"}, ""),
        (ENDPOINT | {"OTEL_SDK_DISABLED": "true"}, ""),
        (ENDPOINT, ON),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:9/v1/traces"}, ON),
    ],
)
def test_a_worker_loads_opentelemetry_sdk_only_when_an_endpoint_is_set(
    tmp_path: Path, otel: dict[str, str], loaded: str
) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OTEL_", "KEEL_")) and key not in ("DATABASE_URL", "REDIS_URL")
    }
    env |= {
        "ENVIRONMENT": "test",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/keel.db",
        "JWT_SECRET_FILE": str(tmp_path / "secret"),
        "OTEL_BSP_EXPORT_TIMEOUT": "100",
        **otel,
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == loaded
