"""Which adapter serves a port, chosen by the settings: the factories the container calls."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.email.logging import LoggingEmailSender
from adapters.email.smtp import SmtpEmailSender
from adapters.ratelimit.memory import InMemoryRateLimiter
from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.pool_events import watch_checkouts
from application.item_counts import ItemCounts
from application.jobs import RETRIES_BY_EVENT
from application.outbox import KINDS
from application.ports import (
    Clock,
    EmailSender,
    EventBus,
    JobQueue,
    RateLimiter,
    SocketSlots,
    UnitOfWorkFactory,
)
from application.ports.blobs import BlobStore
from application.ports.cache import Cache
from application.use_cases.attachments.remove_blobs import RemoveAbandonedUploads
from application.use_cases.housekeeping.delete_expired import DeleteExpired, DeleteExpiredCommand
from entrypoints import settings_values as values
from entrypoints.container.tracing import instrument_engine
from entrypoints.metrics import Metrics, multiprocess_dir
from entrypoints.settings import Settings

if TYPE_CHECKING:
    import procrastinate

    from adapters.jobs.runner import JobRunner
    from adapters.ratelimit.redis import RedisRateLimitStore


def engine(settings: Settings, metrics: Metrics) -> AsyncEngine:
    engine = create_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout,
        pool_recycle=settings.database_pool_recycle,
        statement_timeout_ms=settings.database_statement_timeout_ms,
    )
    watch_checkouts(engine, metrics.pool_in_use.inc, metrics.pool_in_use.dec)
    instrument_engine(engine)
    metrics.pool_max.set(settings.database_pool_size + settings.database_max_overflow)
    return engine


def email_sender(settings: Settings) -> EmailSender:
    """SMTP when ``SMTP_HOST`` is set; otherwise the log (tokens hidden outside development
    and test, where nobody should be reading mail from the log)."""
    if settings.smtp_host:
        return SmtpEmailSender(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_user,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            tls=settings.smtp_tls,
            sender=settings.email_from,
            base_url=settings.public_base_url,
            timeout=settings.smtp_timeout_seconds,
        )
    return LoggingEmailSender(
        sender=settings.email_from,
        base_url=settings.public_base_url,
        show_links=not settings.is_strict,
    )


# The Redis client and limits are imported only where they are used: a serving worker
# needs neither unless Redis is configured (some 15 MB of memory per worker, and a tenth of
# a second of start-up for limits alone).
def job_app(
    settings: Settings,
    handlers: dict[type[object], object],
    delete_expired: DeleteExpired,
    metrics: Metrics,
    remove_abandoned_uploads: RemoveAbandonedUploads | None = None,
) -> procrastinate.App:
    from adapters.jobs.app import build_job_app
    from adapters.jobs.tasks import no_report
    from entrypoints.error_reporting import report_job_failure

    metrics.job_kinds(KINDS)

    async def housekeeping() -> None:
        await delete_expired.execute(DeleteExpiredCommand())
        if remove_abandoned_uploads is not None:
            await remove_abandoned_uploads.execute()

    return build_job_app(
        database_url=settings.database_url,
        handlers=handlers,  # type: ignore[arg-type]
        policies=RETRIES_BY_EVENT,
        housekeeping_cron=settings.housekeeping_cron,
        delete_expired=housekeeping,
        on_outcome=metrics.job_outcome,
        # Jobs that fail for good go to Sentry when a DSN is set (the process started it).
        on_failure=report_job_failure if settings.sentry_dsn is not None else no_report,
        pool_size=settings.database_pool_size,
    )


def job_runner(
    app: procrastinate.App,
    uow_factory: UnitOfWorkFactory,
    engine: AsyncEngine,
    settings: Settings,
    wakeup: asyncio.Event,
    metrics: Metrics,
    concurrency: int = 1,
) -> JobRunner:
    from adapters.jobs.names import QUEUE
    from adapters.jobs.relay import InMemoryQueueRelay
    from adapters.jobs.runner import JobRunner
    from adapters.sqlalchemy.outbox_relay import SqlAlchemyOutboxRelay

    relay: SqlAlchemyOutboxRelay | InMemoryQueueRelay
    if settings.uses_postgres:
        relay = SqlAlchemyOutboxRelay(engine, QUEUE)
    else:
        relay = InMemoryQueueRelay(uow_factory, app)
    return JobRunner(
        app,
        relay,
        concurrency=concurrency,
        wakeup=wakeup,
        on_enqueued=lambda kind: metrics.job_outcome(kind, "enqueued"),
    )


def job_queue(
    settings: Settings, engine: AsyncEngine, app: Callable[[], procrastinate.App]
) -> JobQueue:
    from adapters.jobs.names import QUEUE
    from adapters.sqlalchemy.job_queue import SqlAlchemyJobQueue

    if settings.uses_postgres:
        return SqlAlchemyJobQueue(engine, QUEUE)
    from adapters.jobs.queue import InMemoryJobQueue

    return InMemoryJobQueue(app())


def event_bus(settings: Settings) -> EventBus:
    if settings.redis_url:
        from adapters.live.redis import RedisEventBus

        return RedisEventBus(settings.redis_url)
    from adapters.live.memory import InMemoryEventBus

    return InMemoryEventBus()


def blob_store(settings: Settings) -> BlobStore:
    """By the URL's scheme. The S3 client reads its credentials and region from the
    standard AWS_* variables (or a profile, or the machine's role) by itself."""
    if settings.storage_url.startswith("s3://"):
        from adapters.blobs.s3 import S3BlobStore

        bucket, prefix = values.s3_location(settings.storage_url)
        return S3BlobStore(bucket, prefix, endpoint_url=settings.s3_endpoint_url)
    from adapters.blobs.local import LocalBlobStore

    return LocalBlobStore(values.storage_directory(settings.storage_url))


async def close_blob_store(store: BlobStore) -> None:
    """The S3 store holds a client (its connection pool); the local one holds nothing."""
    close = getattr(store, "close", None)
    if close is not None:
        await close()


def quick_publisher(bus: EventBus) -> EventBus:
    from adapters.live.quick import QuickPublisher

    return QuickPublisher(bus)


def socket_slots(settings: Settings) -> SocketSlots:
    if settings.redis_url:
        from adapters.live.redis_slots import RedisSocketSlots

        return RedisSocketSlots(
            settings.redis_url,
            limit=settings.ws_max_connections_per_user,
            ttl_seconds=settings.ws_connection_ttl_seconds,
        )
    from adapters.live.slots import InMemorySocketSlots

    return InMemorySocketSlots(settings.ws_max_connections_per_user)


def cache(settings: Settings) -> Cache:
    """Shared by every worker through Redis when REDIS_URL is set, else this worker's."""
    if settings.redis_url:
        from adapters.cache.redis import RedisCache

        return RedisCache(settings.redis_url)
    from adapters.cache.memory import InMemoryCache

    return InMemoryCache()


def item_counts(settings: Settings, cache: Cache) -> ItemCounts | None:
    """The listings' counts cached where every process that changes items invalidates
    them: Redis, or this worker's memory when it serves alone. Workers sharing a metrics
    directory are several (``keel serve --workers``): without Redis one would never hear
    of another's changes, so they count each time."""
    if not settings.redis_url and multiprocess_dir() is not None:
        return None
    return ItemCounts(cache)


def rate_limit_store(settings: Settings) -> RedisRateLimitStore | None:
    if not settings.redis_url:
        return None
    from adapters.ratelimit.redis import RedisRateLimitStore

    return RedisRateLimitStore(settings.redis_url)


def limiter(rate: tuple[int, int], clock: Clock, store: RedisRateLimitStore | None) -> RateLimiter:
    attempts, window = rate
    if store is not None:
        from adapters.ratelimit.redis import RedisRateLimiter

        return RedisRateLimiter(store, limit=attempts, window_seconds=window)
    return InMemoryRateLimiter(limit=attempts, window_seconds=window, clock=clock)


def has_encryption_key(settings: Settings) -> bool:
    """False only where strict and unset: the second factor is then unavailable."""
    return settings.encryption_key_value() is not None
