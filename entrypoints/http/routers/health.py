from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from application.errors import StorageUnavailable
from entrypoints.http.dependencies import ContainerDep
from entrypoints.http.error_table import UNAVAILABLE
from entrypoints.http.errors import error_response
from entrypoints.http.openapi import ErrorExample, documented
from entrypoints.http.schemas.health import HealthOut

router = APIRouter(prefix="/health", tags=["health"])

DATABASE_DOWN = ErrorExample("Database is unavailable", {"checks": {"database": "unavailable"}})
QUEUE_DOWN = ErrorExample(
    "The job queue is unavailable", {"checks": {"database": "ok", "jobs": "unavailable"}}
)


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
    """Ready to serve: the database answers within two seconds, and so does the job queue
    (in the database on PostgreSQL). Otherwise 503 naming the failing check in
    `details.checks`."""
    try:
        await container.health_probe().check()
    except StorageUnavailable:
        container.metrics().readiness("database", False)
        return _unavailable(request, DATABASE_DOWN)
    container.metrics().readiness("database", True)
    try:
        await container.job_queue().check()
    except StorageUnavailable:
        container.metrics().readiness("jobs", False)
        return _unavailable(request, QUEUE_DOWN)
    container.metrics().readiness("jobs", True)
    return HealthOut(status="ok", checks={"database": "ok", "jobs": "ok"})


def _unavailable(request: Request, answer: ErrorExample) -> Response:
    status, code, headers = UNAVAILABLE.status, UNAVAILABLE.code, dict(UNAVAILABLE.headers)
    return error_response(request, status, code, answer.message, answer.details, headers)
