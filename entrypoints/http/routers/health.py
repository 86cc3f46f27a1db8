from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from entrypoints.http.dependencies import ContainerDep
from entrypoints.http.error_table import UNAVAILABLE
from entrypoints.http.errors import error_response
from entrypoints.http.openapi import ErrorExample, documented
from entrypoints.http.readiness import OK, Readiness
from entrypoints.http.schemas.health import HealthOut

router = APIRouter(prefix="/health", tags=["health"])

DATABASE_DOWN = ErrorExample(
    "Database is unavailable", {"checks": {"database": "connection refused"}}
)
QUEUE_DOWN = ErrorExample(
    "The job queue is unavailable", {"checks": {"database": "ok", "jobs": "unavailable"}}
)
REDIS_DOWN = ErrorExample(
    "Redis is unavailable",
    {"checks": {"database": "ok", "jobs": "ok", "redis": "connection refused"}},
)
STORAGE_DOWN = ErrorExample(
    "Attachment storage is unavailable",
    {"checks": {"database": "ok", "jobs": "ok", "storage": "S3 endpoint unreachable"}},
)
_FIRST_FAILING = {
    "database": DATABASE_DOWN,
    "jobs": QUEUE_DOWN,
    "redis": REDIS_DOWN,
    "storage": STORAGE_DOWN,
}


@router.get(
    "/live",
    response_model=HealthOut,
    summary="Liveness probe",
    operation_id="checkLiveness",
    responses=documented(200, "The process is up", errors=()),
)
async def live() -> HealthOut:
    """The process is up and its event loop answers. Checks nothing else."""
    return HealthOut(status="ok")


@router.get(
    "/ready",
    response_model=HealthOut,
    summary="Readiness probe",
    operation_id="checkReadiness",
    responses=documented(
        200, "Ready: every check passed", errors=(503,), examples={503: DATABASE_DOWN}
    ),
)
async def ready(request: Request, container: ContainerDep) -> HealthOut | Response:
    """Ready to serve: the database answers within two seconds at the code's newest
    migration, the job queue answers (in the database on PostgreSQL), and so does Redis
    when `REDIS_URL` is set; the attachment storage (`STORAGE_URL`) takes a write (checked
    at most every ten seconds while it passes). Otherwise 503 naming each failing check's
    cause in `details.checks` (`"connection refused"`, `"authentication failed"`,
    `"database does not exist"`, `"timed out"`, `"behind migration 0007 (at 0003, 3 of
    7)"`, `"S3 endpoint unreachable"`, `"storage directory not writable (Not a
    directory)"`, ...)."""
    readiness: Readiness = request.app.state.readiness
    checks = await readiness.checks()
    for name, state in checks.items():
        container.metrics().readiness(name, state == OK)
    failing = [name for name, state in checks.items() if state != OK]
    if not failing:
        return HealthOut(status="ok", checks=checks)
    answer = _FIRST_FAILING.get(failing[0], DATABASE_DOWN)
    return _unavailable(request, ErrorExample(answer.message, {"checks": checks}))


def _unavailable(request: Request, answer: ErrorExample) -> Response:
    status, code, headers = UNAVAILABLE.status, UNAVAILABLE.code, dict(UNAVAILABLE.headers)
    return error_response(request, status, code, answer.message, answer.details, headers)
