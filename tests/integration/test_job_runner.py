"""The job runner in a serving process on PostgreSQL: however soon after its start it is
stopped (while its pool connects, while its worker registers, while it waits for work), the
stop returns, within the grace period."""

from __future__ import annotations

import asyncio

import pytest

from entrypoints.container import build_container, shutdown_container
from entrypoints.settings import Settings
from tests.integration.conftest import migrated

pytestmark = pytest.mark.postgres


async def test_a_runner_stopped_at_any_moment_of_its_start_stops(postgres_url: str) -> None:
    await migrated(postgres_url)
    settings = Settings(
        _env_file=None, environment="test", database_url=postgres_url, jwt_secret="x" * 40
    )
    for trial in range(40):
        container = build_container(settings)
        runner = container.job_runner()
        runner.start()
        await asyncio.sleep((trial % 20) * 0.005)  # 0 to 95 ms into the start
        try:
            await asyncio.wait_for(runner.stop(), 12)
        finally:
            await shutdown_container(container)
