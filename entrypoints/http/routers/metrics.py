from __future__ import annotations

import contextlib
from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from application.errors import StorageUnavailable
from application.outbox import KINDS
from entrypoints.http.dependencies import ContainerDep
from entrypoints.http.openapi import documented

router = APIRouter(tags=["operations"])

EXAMPLE = (
    "# HELP keel_http_requests_total HTTP requests answered.\n"
    "# TYPE keel_http_requests_total counter\n"
    'keel_http_requests_total{method="GET",route="/api/v1/items",status="200"} 42.0\n'
)


def _responses() -> dict[int | str, dict[str, Any]]:
    answers = documented(200, "Prometheus text exposition format", errors=())
    answers[200]["content"] = {"text/plain": {"schema": {"type": "string"}, "example": EXAMPLE}}
    return answers


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    operation_id="getMetrics",
    response_class=Response,
    responses=_responses(),
)
async def metrics(container: ContainerDep) -> Response:
    """Requests by method, route template and status (count and latency histogram), requests
    in flight, database connections in use, login failures and throttled logins; background
    jobs by kind and outcome, and the backlog by kind (waiting, the age of the oldest due,
    failed and kept). With several workers every scrape adds up all of them."""
    metrics = container.metrics()
    with contextlib.suppress(StorageUnavailable):  # readiness names the database
        metrics.job_backlog(await container.job_queue().backlog(), KINDS)
    return Response(metrics.exposition(), media_type=metrics.content_type)
