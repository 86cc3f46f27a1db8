"""The composition root: the one place that knows which adapter serves which port."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from dependency_injector import containers, providers
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.argon2.hasher import Argon2PasswordHasher
from adapters.clock import SystemClock
from adapters.email.logging import LoggingEmailSender
from adapters.email.smtp import SmtpEmailSender
from adapters.jwt.token_service import PyJwtTokenService
from adapters.passwords.common import ZxcvbnCommonPasswords
from adapters.ratelimit.memory import InMemoryRateLimiter
from adapters.sqlalchemy.engine import close_engine, create_engine
from adapters.sqlalchemy.events import SqlAlchemyEventRecorder
from adapters.sqlalchemy.health import SqlAlchemyHealthProbe
from adapters.sqlalchemy.pool_events import watch_checkouts
from adapters.sqlalchemy.readers import SqlAlchemyItemReader, SqlAlchemyUserReader
from adapters.sqlalchemy.reads import reads_for
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.jobs import RETRIES_BY_EVENT
from application.ports import Clock, EmailSender, JobQueue, RateLimiter, UnitOfWorkFactory
from application.throttling import LoginThrottle
from application.use_cases.accounts.create_superuser import CreateSuperuser
from application.use_cases.accounts.delete_user import DeleteUser
from application.use_cases.accounts.get_user import GetUser
from application.use_cases.accounts.list_users import ListUsers
from application.use_cases.accounts.register_user import RegisterUser
from application.use_cases.accounts.update_user import UpdateUser
from application.use_cases.housekeeping.delete_expired import DeleteExpired
from application.use_cases.items.create_item import CreateItem
from application.use_cases.items.delete_item import DeleteItem
from application.use_cases.items.get_item import GetItem
from application.use_cases.items.list_items import ListItems
from application.use_cases.items.update_item import UpdateItem
from application.use_cases.mail.confirm_password_reset import ConfirmPasswordReset
from application.use_cases.mail.limits import MAILS_PER_HOUR, WINDOW_SECONDS
from application.use_cases.mail.request_password_reset import RequestPasswordReset
from application.use_cases.mail.resend_verification import ResendVerification
from application.use_cases.mail.send_reset_link import SendResetLink
from application.use_cases.mail.send_verification_link import SendVerificationLink
from application.use_cases.mail.send_welcome_mail import SendWelcomeMail
from application.use_cases.mail.verify_email import VerifyEmail
from application.use_cases.sessions.get_current_user import GetCurrentUser
from application.use_cases.sessions.login import Login
from application.use_cases.sessions.logout import Logout
from application.use_cases.sessions.logout_all import LogoutAll
from application.use_cases.sessions.refresh_tokens import RefreshTokens
from domain.events import PasswordResetRequested, UserRegistered, VerificationRequested
from entrypoints.metrics import Metrics
from entrypoints.settings import Settings

if TYPE_CHECKING:
    import procrastinate

    from adapters.jobs.runner import JobRunner
    from adapters.ratelimit.redis import RedisRateLimitStore
    from adapters.sqlalchemy.migrations import AlembicMigrator


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    clock = providers.Singleton(SystemClock)
    metrics = providers.Singleton(Metrics)
    engine = providers.Singleton(lambda s, m: _engine(s, m), settings, metrics)
    # Set when this process commits events: its job runner, if any, wakes up at once.
    outbox_wakeup = providers.Singleton(asyncio.Event)
    unit_of_work = providers.Factory(
        SqlAlchemyUnitOfWork, engine, clock=clock, on_events=outbox_wakeup.provided.set
    )
    # The read side: asyncpg's fast path on PostgreSQL, SQLAlchemy elsewhere and behind it.
    reads = providers.Singleton(reads_for, engine)
    user_reader = providers.Singleton(SqlAlchemyUserReader, reads)
    item_reader = providers.Singleton(SqlAlchemyItemReader, reads)
    event_recorder = providers.Singleton(
        SqlAlchemyEventRecorder, engine, clock=clock, on_events=outbox_wakeup.provided.set
    )
    health_probe = providers.Singleton(SqlAlchemyHealthProbe, engine)
    migrator = providers.Factory(lambda url: _migrator(url), settings.provided.database_url)

    common_passwords = providers.Singleton(ZxcvbnCommonPasswords)
    # Every limit counts in Redis when REDIS_URL is set (one store, one connection pool),
    # otherwise in the worker's memory.
    rate_limit_store = providers.Singleton(lambda s: _rate_limit_store(s), settings)
    login_account_limiter = providers.Singleton(
        lambda s, c, st: _limiter(s.login_rate, c, st), settings, clock, rate_limit_store
    )
    login_address_limiter = providers.Singleton(
        lambda s, c, st: _limiter(s.login_address_rate, c, st), settings, clock, rate_limit_store
    )
    registration_limiter = providers.Singleton(
        lambda s, c, st: _limiter(s.registration_rate, c, st), settings, clock, rate_limit_store
    )
    mail_limiter = providers.Singleton(
        lambda c, st: _limiter((MAILS_PER_HOUR, WINDOW_SECONDS), c, st), clock, rate_limit_store
    )
    login_throttle = providers.Singleton(
        LoginThrottle, per_account=login_account_limiter, per_address=login_address_limiter
    )
    password_hasher = providers.Singleton(
        Argon2PasswordHasher,
        time_cost=settings.provided.argon2_time_cost,
        memory_cost_kib=settings.provided.argon2_memory_cost_kib,
        parallelism=settings.provided.argon2_parallelism,
        max_threads=settings.provided.password_hash_threads,
        max_queue=settings.provided.password_hash_queue_size,
    )
    token_service = providers.Singleton(
        PyJwtTokenService,
        secret=settings.provided.jwt_secret_value.call(),
        algorithm=settings.provided.jwt_algorithm,
        issuer=settings.provided.jwt_issuer,
        audience=settings.provided.jwt_audience,
        access_ttl=providers.Factory(
            timedelta, minutes=settings.provided.access_token_expire_minutes
        ),
        refresh_ttl=providers.Factory(timedelta, days=settings.provided.refresh_token_expire_days),
        clock=clock,
    )

    register_user = providers.Singleton(
        RegisterUser,
        uow_factory=unit_of_work.provider,
        hasher=password_hasher,
        clock=clock,
        open_registration=settings.provided.open_registration,
        common_passwords=common_passwords,
        limiter=registration_limiter,
    )
    create_superuser = providers.Singleton(
        CreateSuperuser,
        uow_factory=unit_of_work.provider,
        hasher=password_hasher,
        clock=clock,
        common_passwords=common_passwords,
    )
    login = providers.Singleton(
        Login,
        uow_factory=unit_of_work.provider,
        hasher=password_hasher,
        tokens=token_service,
        clock=clock,
        throttle=login_throttle,
        require_verified_email=settings.provided.require_verified_email,
    )
    get_current_user = providers.Singleton(GetCurrentUser, users=user_reader, tokens=token_service)

    refresh_tokens = providers.Singleton(
        RefreshTokens, uow_factory=unit_of_work.provider, tokens=token_service, clock=clock
    )
    logout = providers.Singleton(
        Logout, uow_factory=unit_of_work.provider, tokens=token_service, clock=clock
    )
    logout_all = providers.Singleton(LogoutAll, uow_factory=unit_of_work.provider, clock=clock)

    get_user = providers.Singleton(GetUser, users=user_reader)
    list_users = providers.Singleton(ListUsers, users=user_reader)
    update_user = providers.Singleton(
        UpdateUser,
        uow_factory=unit_of_work.provider,
        users=user_reader,
        hasher=password_hasher,
        clock=clock,
        common_passwords=common_passwords,
        throttle=login_throttle,
    )
    delete_user = providers.Singleton(DeleteUser, uow_factory=unit_of_work.provider)

    create_item = providers.Singleton(CreateItem, uow_factory=unit_of_work.provider, clock=clock)
    get_item = providers.Singleton(GetItem, items=item_reader)
    list_items = providers.Singleton(ListItems, items=item_reader)
    update_item = providers.Singleton(UpdateItem, uow_factory=unit_of_work.provider, clock=clock)
    delete_item = providers.Singleton(DeleteItem, uow_factory=unit_of_work.provider)

    request_password_reset = providers.Singleton(
        RequestPasswordReset, events=event_recorder, limiter=mail_limiter
    )
    confirm_password_reset = providers.Singleton(
        ConfirmPasswordReset,
        uow_factory=unit_of_work.provider,
        hasher=password_hasher,
        clock=clock,
        common_passwords=common_passwords,
    )
    resend_verification = providers.Singleton(
        ResendVerification, uow_factory=unit_of_work.provider, limiter=mail_limiter
    )
    verify_email = providers.Singleton(VerifyEmail, uow_factory=unit_of_work.provider, clock=clock)
    email_sender = providers.Singleton(lambda s: _email_sender(s), settings)

    # What the events recorded in the outbox cause, by event.
    send_welcome_mail = providers.Singleton(SendWelcomeMail, users=user_reader, sender=email_sender)
    send_verification_link = providers.Singleton(
        SendVerificationLink,
        uow_factory=unit_of_work.provider,
        clock=clock,
        sender=email_sender,
        limiter=mail_limiter,
    )
    send_reset_link = providers.Singleton(
        SendResetLink, uow_factory=unit_of_work.provider, clock=clock, sender=email_sender
    )
    job_handlers = providers.Dict(
        {
            UserRegistered: send_welcome_mail,
            VerificationRequested: send_verification_link,
            PasswordResetRequested: send_reset_link,
        }
    )
    delete_expired = providers.Singleton(
        DeleteExpired, uow_factory=unit_of_work.provider, clock=clock
    )
    # The job queue (procrastinate) is loaded only by what runs or retries jobs: a serving
    # process that leaves its jobs to `keel worker` never imports it.
    job_app = providers.Singleton(
        lambda s, h, d, m: _job_app(s, h, d, m), settings, job_handlers, delete_expired, metrics
    )
    job_runner = providers.Factory(
        lambda a, u, e, s, w, m, concurrency=1: _job_runner(a, u, e, s, w, m, concurrency),
        job_app,
        unit_of_work.provider,
        engine,
        settings,
        outbox_wakeup,
        metrics,
    )
    job_queue = providers.Singleton(
        lambda s, e, a: _job_queue(s, e, a), settings, engine, job_app.provider
    )


def _engine(settings: Settings, metrics: Metrics) -> AsyncEngine:
    engine = create_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout,
        pool_recycle=settings.database_pool_recycle,
        statement_timeout_ms=settings.database_statement_timeout_ms,
    )
    watch_checkouts(engine, metrics.pool_in_use.inc, metrics.pool_in_use.dec)
    return engine


def _email_sender(settings: Settings) -> EmailSender:
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


# Alembic, the Redis client and limits are imported only where they are used: a serving
# worker needs none of them unless Redis is configured (some 15 MB of memory per worker,
# and a tenth of a second of start-up for limits alone).
def _migrator(database_url: str) -> AlembicMigrator:
    from adapters.sqlalchemy.migrations import AlembicMigrator

    return AlembicMigrator(database_url)


def _job_app(
    settings: Settings,
    handlers: dict[type[object], object],
    delete_expired: DeleteExpired,
    metrics: Metrics,
) -> procrastinate.App:
    from adapters.jobs.app import build_job_app

    return build_job_app(
        database_url=settings.database_url,
        handlers=handlers,  # type: ignore[arg-type]
        policies=RETRIES_BY_EVENT,
        housekeeping_cron=settings.housekeeping_cron,
        delete_expired=delete_expired.execute,
        on_outcome=metrics.job_outcome,
        pool_size=settings.database_pool_size,
    )


def _job_runner(
    app: procrastinate.App,
    uow_factory: UnitOfWorkFactory,
    engine: AsyncEngine,
    settings: Settings,
    wakeup: asyncio.Event,
    metrics: Metrics,
    concurrency: int,
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


def _job_queue(
    settings: Settings, engine: AsyncEngine, app: Callable[[], procrastinate.App]
) -> JobQueue:
    from adapters.jobs.names import QUEUE
    from adapters.sqlalchemy.job_queue import SqlAlchemyJobQueue

    if settings.uses_postgres:
        return SqlAlchemyJobQueue(engine, QUEUE)
    from adapters.jobs.queue import InMemoryJobQueue

    return InMemoryJobQueue(app())


def _rate_limit_store(settings: Settings) -> RedisRateLimitStore | None:
    if not settings.redis_url:
        return None
    from adapters.ratelimit.redis import RedisRateLimitStore

    return RedisRateLimitStore(settings.redis_url)


def _limiter(rate: tuple[int, int], clock: Clock, store: RedisRateLimitStore | None) -> RateLimiter:
    attempts, window = rate
    if store is not None:
        from adapters.ratelimit.redis import RedisRateLimiter

        return RedisRateLimiter(store, limit=attempts, window_seconds=window)
    return InMemoryRateLimiter(limit=attempts, window_seconds=window, clock=clock)


def build_container(settings: Settings) -> Container:
    return Container(settings=settings)


async def shutdown_container(container: Container) -> None:
    """Release what the container started: the hashing threads, the Redis client and the
    database pool. The pool is closed even when releasing the rest fails."""
    try:
        container.password_hasher().close()
        store = container.rate_limit_store()  # the Redis client, when there is one
        if store is not None:
            await store.close()
    finally:
        await close_engine(container.engine())
