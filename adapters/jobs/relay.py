"""The relay into procrastinate's in-memory queue (SQLite, the fast tests)."""

from __future__ import annotations

import procrastinate

from adapters.jobs.names import QUEUE
from application.ports import UnitOfWorkFactory

BATCH = 100


class InMemoryQueueRelay:
    """Into procrastinate's in-memory queue, which lives as long as this process. A crash
    between the commit and the job loses the job: the embedded start's trade, not
    production's."""

    def __init__(self, uow_factory: UnitOfWorkFactory, app: procrastinate.App) -> None:
        self._uow_factory = uow_factory
        self._app = app
        self.batch = BATCH

    async def run_once(self) -> list[str]:
        async with self._uow_factory() as uow:
            entries = await uow.outbox.take(self.batch)
            await uow.commit()
        for entry in entries:
            task = self._app.configure_task(name=entry.kind, queue=QUEUE)
            await task.defer_async(
                payload=entry.payload, outbox_id=str(entry.id), traceparent=entry.traceparent
            )
        return [entry.kind for entry in entries]
