"""The clock, mail, health probes and the job queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from application.mail import Mail


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class EmailSender(Protocol):
    async def send(self, mail: Mail) -> None:
        """Hand the mail to the mail server; raise ``MailDeliveryFailed`` when that fails."""
        ...


class HealthProbe(Protocol):
    async def check(self) -> None:
        """Return when the dependency answers; raise ``StorageUnavailable`` otherwise."""
        ...


@dataclass(frozen=True, slots=True)
class JobSummary:
    """A job as an operator sees it."""

    id: int
    kind: str
    status: str  # waiting, running, succeeded, failed, aborted, cancelled
    attempts: int
    scheduled_at: datetime | None  # the next try, for one waiting to be tried again
    changed_at: datetime | None  # its last change of status


@dataclass(frozen=True, slots=True)
class KindBacklog:
    """What waits for one kind of job: not yet run (due or scheduled for a retry), the age
    of the oldest that is due, and how many ran out of attempts and are kept."""

    kind: str
    waiting: int
    oldest_due_seconds: float
    failed: int


class JobQueue(Protocol):
    """The jobs, for operators: what waits, and what ran out of attempts."""

    async def jobs(self, *, failed_only: bool) -> list[JobSummary]: ...

    async def retry(self, job_id: int) -> bool:
        """Run a failed job again now; ``False`` when no failed job has that id."""
        ...

    async def purge_failed(self) -> int:
        """Delete the failed jobs; how many."""
        ...

    async def backlog(self) -> list[KindBacklog]:
        """Raise ``StorageUnavailable`` when the queue cannot be read."""
        ...

    async def check(self) -> None:
        """Return when the queue answers; raise ``StorageUnavailable`` otherwise."""
        ...
