"""How the background jobs are tried again, by kind: the business rule of how long a mail
may wait for its mail server."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta

from domain.events import (
    AttachmentsRemoved,
    ItemCreated,
    ItemDeleted,
    ItemUpdated,
    OwnerItemsDeleted,
    PasswordResetRequested,
    SessionsEnded,
    UserRegistered,
    VerificationRequested,
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """After a failed try, the next comes after ``first``, then twice as long each time up to
    ``longest``, until ``attempts`` tries in all have failed."""

    first: timedelta
    longest: timedelta
    attempts: int

    def pause_after(self, failed_tries: int) -> timedelta | None:
        """The pause before the next try once ``failed_tries`` (1 or more) have failed;
        ``None`` when that was the last: the job is kept as failed for an operator."""
        if failed_tries >= self.attempts:
            return None
        doublings = min(max(failed_tries - 1, 0), 30)  # 10 s * 2**30 is far past any cap
        return min(self.first * (1 << doublings), self.longest)

    def total_wait(self) -> timedelta:
        return sum(
            (self.pause_after(n) or timedelta() for n in range(1, self.attempts)), timedelta()
        )


# 10 s, 20 s, 40 s ... then hourly: 14 tries over about five and a half hours, so a mail
# server down for minutes delays mail by about as long, and one down for hours loses none.
MAIL_RETRIES = RetryPolicy(first=timedelta(seconds=10), longest=timedelta(hours=1), attempts=14)
# Housekeeping runs again on its own schedule; a failed run is retried a few times only.
HOUSEKEEPING_RETRIES = RetryPolicy(
    first=timedelta(seconds=30), longest=timedelta(minutes=5), attempts=3
)
# A live event is worth delivering while a client could still replay it (five minutes
# are kept): 1 s, 2 s, 4 s ... 30 s, 12 tries over about four minutes. Later, a
# reconnecting client is told to reload instead.
LIVE_EVENT_RETRIES = RetryPolicy(
    first=timedelta(seconds=1), longest=timedelta(seconds=30), attempts=12
)

# Stored bytes whose rows are gone: tried until the store takes the deletion, 10 s, 20 s ...
# then hourly for about two days, so an outage of the store leaves nothing behind.
BLOB_RETRIES = RetryPolicy(first=timedelta(seconds=10), longest=timedelta(hours=1), attempts=56)

RETRIES_BY_EVENT: dict[type[object], RetryPolicy] = {
    UserRegistered: MAIL_RETRIES,
    VerificationRequested: MAIL_RETRIES,
    PasswordResetRequested: MAIL_RETRIES,
    ItemCreated: LIVE_EVENT_RETRIES,
    ItemUpdated: LIVE_EVENT_RETRIES,
    ItemDeleted: LIVE_EVENT_RETRIES,
    OwnerItemsDeleted: LIVE_EVENT_RETRIES,
    SessionsEnded: LIVE_EVENT_RETRIES,
    AttachmentsRemoved: BLOB_RETRIES,
}

# The key of the job being run (its outbox entry's id), while its handler runs: a job run
# twice sends mail with the same Message-ID, so that the receiving side can tell.
running_job: ContextVar[str | None] = ContextVar("running_job", default=None)
