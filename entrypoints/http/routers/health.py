from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from application.errors import StorageUnavailable
from entrypoints.http.dependencies import ContainerDep
from entrypoints.http.envelope import error_responses
from entrypoints.http.errors import error_response
from entrypoints.http.schemas import HealthOut

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live", response_model=HealthOut, summary="Liveness probe")
async def live() -> HealthOut:
    """The process is up and its event loop answers. Checks nothing else."""
    return HealthOut(status="ok")


@router.get(
    "/ready",
    response_model=HealthOut,
    summary="Readiness probe",
    responses=error_responses(503),
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
            "Database is unavailable",
            {"checks": {"database": "unavailable"}},
            headers={"Retry-After": "5"},
        )
    return HealthOut(status="ok", checks={"database": "ok"})
