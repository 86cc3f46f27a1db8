from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from application.errors import StorageUnavailable
from entrypoints.http.dependencies import ContainerDep
from entrypoints.http.errors import error_response
from entrypoints.http.openapi import ErrorExample, documented
from entrypoints.http.schemas import HealthOut

router = APIRouter(prefix="/health", tags=["health"])

DATABASE_DOWN = ErrorExample("Database is unavailable", {"checks": {"database": "unavailable"}})


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
    """Ready to serve: the database answers within two seconds. Otherwise 503 naming the
    failing check in `details.checks`."""
    try:
        await container.health_probe().check()
    except StorageUnavailable:
        return error_response(
            request,
            503,
            "SERVICE_UNAVAILABLE",
            DATABASE_DOWN.message,
            DATABASE_DOWN.details,
            headers={"Retry-After": "5"},
        )
    return HealthOut(status="ok", checks={"database": "ok"})
