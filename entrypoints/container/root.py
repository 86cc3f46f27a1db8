"""The composition root: the one place that knows which adapter serves which port."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from dependency_injector import containers, providers

from adapters.argon2.hasher import Argon2PasswordHasher, prepare_process_for_hashing
from adapters.clock import SystemClock
from adapters.jwt.token_service import PyJwtTokenService
from adapters.mfa.cipher import secret_cipher as cipher_for
from adapters.mfa.totp import PyOtpTotp
from adapters.passwords.common import ZxcvbnCommonPasswords
from adapters.sqlalchemy.attachments import SqlAlchemyAttachmentReader
from adapters.sqlalchemy.credentials import SqlAlchemyCredentialReader
from adapters.sqlalchemy.engine import close_engine
from adapters.sqlalchemy.events import SqlAlchemyEventRecorder
from adapters.sqlalchemy.health import SqlAlchemyHealthProbe
from adapters.sqlalchemy.readers import SqlAlchemyItemReader, SqlAlchemyUserReader
from adapters.sqlalchemy.reads import SqlAlchemyReads, reads_for
from adapters.sqlalchemy.security_events import (
    SqlAlchemySecurityEventLog,
    SqlAlchemySecurityEventReader,
)
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.errors import StorageUnavailable
from application.throttling import LoginThrottle
from application.use_cases.accounts.create_superuser import CreateSuperuser
from application.use_cases.accounts.delete_user import DeleteUser
from application.use_cases.accounts.get_user import GetUser
from application.use_cases.accounts.list_users import ListUsers
from application.use_cases.accounts.register_user import RegisterUser
from application.use_cases.accounts.update_user import UpdateUser
from application.use_cases.attachments.delete_attachment import DeleteAttachment
from application.use_cases.attachments.read_attachments import GetAttachment, ListAttachments
from application.use_cases.attachments.remove_blobs import RemoveAbandonedUploads, RemoveBlobs
from application.use_cases.attachments.upload_attachment import AttachmentLimits, UploadAttachment
from application.use_cases.audit.account_trail import AccountTrail
from application.use_cases.audit.list_security_events import ListSecurityEvents
from application.use_cases.housekeeping.delete_expired import DeleteExpired
from application.use_cases.items.create_item import CreateItem
from application.use_cases.items.delete_item import DeleteItem
from application.use_cases.items.get_item import GetItem
from application.use_cases.items.list_items import ListItems
from application.use_cases.items.update_item import UpdateItem
from application.use_cases.mail.check_mail_token import CheckMailToken
from application.use_cases.mail.confirm_password_reset import ConfirmPasswordReset
from application.use_cases.mail.limits import MAILS_PER_HOUR, WINDOW_SECONDS
from application.use_cases.mail.request_password_reset import RequestPasswordReset
from application.use_cases.mail.resend_verification import ResendVerification
from application.use_cases.mail.send_reset_link import SendResetLink
from application.use_cases.mail.send_verification_link import SendVerificationLink
from application.use_cases.mail.send_welcome_mail import SendWelcomeMail
from application.use_cases.mail.verify_email import VerifyEmail
from application.use_cases.mfa.codes import SecondFactorCodes
from application.use_cases.mfa.confirm_totp import ConfirmTotp
from application.use_cases.mfa.disable_totp import DisableTotp
from application.use_cases.mfa.key_check import EncryptionKeyCheck
from application.use_cases.mfa.operator_disable import OperatorDisableMfa
from application.use_cases.mfa.reencrypt_secrets import ReencryptSecrets
from application.use_cases.mfa.renew_recovery_codes import RenewRecoveryCodes
from application.use_cases.mfa.setup_caller import ResolveSetupToken
from application.use_cases.mfa.setup_totp import SetupTotp
from application.use_cases.mfa.verify_mfa import VerifyMfa
from application.use_cases.realtime.publish_live_event import (
    PublishItemsDeleted,
    PublishLiveEvent,
)
from application.use_cases.sessions.end_session import EndSession
from application.use_cases.sessions.get_current_user import GetCurrentUser
from application.use_cases.sessions.list_sessions import ListSessions
from application.use_cases.sessions.login import Login
from application.use_cases.sessions.logout import Logout
from application.use_cases.sessions.logout_all import LogoutAll
from application.use_cases.sessions.refresh_tokens import RefreshTokens
from application.use_cases.tokens.authenticate_personal_token import AuthenticatePersonalToken
from application.use_cases.tokens.create_personal_token import CreatePersonalToken
from application.use_cases.tokens.list_personal_tokens import ListPersonalTokens
from application.use_cases.tokens.revoke_personal_token import RevokePersonalToken
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
from domain.keyset import CursorCodec
from entrypoints.container import factories, migrations
from entrypoints.metrics import Metrics
from entrypoints.settings import Settings


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    clock = providers.Singleton(SystemClock)
    metrics = providers.Singleton(Metrics)
    engine = providers.Singleton(factories.engine, settings, metrics)
    # Set when this process commits events: its job runner, if any, wakes up at once.
    outbox_wakeup = providers.Singleton(asyncio.Event)
    unit_of_work = providers.Factory(
        SqlAlchemyUnitOfWork, engine, clock=clock, on_events=outbox_wakeup.provided.set
    )
    # The read side: asyncpg's fast path on PostgreSQL, SQLAlchemy elsewhere and behind it.
    reads = providers.Singleton(reads_for, engine)
    user_reader = providers.Singleton(SqlAlchemyUserReader, reads)
    item_reader = providers.Singleton(SqlAlchemyItemReader, reads)
    attachment_reader = providers.Singleton(SqlAlchemyAttachmentReader, reads)
    credential_reader = providers.Singleton(SqlAlchemyCredentialReader, reads)
    event_recorder = providers.Singleton(
        SqlAlchemyEventRecorder, engine, clock=clock, on_events=outbox_wakeup.provided.set
    )
    # The audit trail: refused logins recorded by themselves; read through SQLAlchemy (an
    # operator's and an administrator's read, not a hot path).
    security_event_log = providers.Singleton(SqlAlchemySecurityEventLog, engine)
    security_event_reader = providers.Singleton(
        SqlAlchemySecurityEventReader, providers.Singleton(SqlAlchemyReads, engine)
    )
    health_probe = providers.Singleton(SqlAlchemyHealthProbe, engine)
    migrator = providers.Factory(migrations.migrator, settings.provided.database_url)

    common_passwords = providers.Singleton(ZxcvbnCommonPasswords)
    # Every limit counts in Redis when REDIS_URL is set (one store, one connection pool),
    # otherwise in the worker's memory.
    rate_limit_store = providers.Singleton(factories.rate_limit_store, settings)
    login_account_limiter = providers.Singleton(
        factories.limiter, settings.provided.login_rate, clock, rate_limit_store
    )
    login_address_limiter = providers.Singleton(
        factories.limiter, settings.provided.login_address_rate, clock, rate_limit_store
    )
    registration_limiter = providers.Singleton(
        factories.limiter, settings.provided.registration_rate, clock, rate_limit_store
    )
    mail_limiter = providers.Singleton(
        factories.limiter, (MAILS_PER_HOUR, WINDOW_SECONDS), clock, rate_limit_store
    )
    # One login.throttled per account and login window, however many are refused.
    throttled_login_once = providers.Singleton(
        factories.limiter,
        providers.Callable(lambda rate: (1, rate[1]), settings.provided.login_rate),
        clock,
        rate_limit_store,
    )
    login_throttle = providers.Singleton(
        LoginThrottle, per_account=login_account_limiter, per_address=login_address_limiter
    )
    # A start-up step, not a service: once, where a process that hashes starts.
    prepare_hashing = providers.Callable(prepare_process_for_hashing)
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

    # Listings' cursors are signed with a key derived from the same secret: every worker
    # and machine reads the cursors the others gave.
    cursor_codec = providers.Singleton(CursorCodec, settings.provided.jwt_secret_value.call())

    # Computed answers kept a while: in this process's memory, or in Redis when REDIS_URL
    # is set (and then invalidated for every worker at once).
    cache = providers.Singleton(factories.cache, settings)
    item_counts = providers.Singleton(factories.item_counts, settings, cache)

    # Live events: in this process's memory, or through Redis when REDIS_URL is set.
    event_bus = providers.Singleton(factories.event_bus, settings)
    blob_store = providers.Singleton(factories.blob_store, settings)
    # The cap on a user's sockets: per process, or across every worker through Redis.
    socket_slots = providers.Singleton(factories.socket_slots, settings)
    # What a use case publishes right after its commit, off the request's path.
    quick_publisher = providers.Singleton(factories.quick_publisher, event_bus)

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
        trail=security_event_log,
        throttled_once=throttled_login_once,
        mfa_required_roles=settings.provided.mfa_required_roles,
        second_factor_available=providers.Callable(factories.has_encryption_key, settings),
    )
    get_current_user = providers.Singleton(GetCurrentUser, users=user_reader, tokens=token_service)

    refresh_tokens = providers.Singleton(
        RefreshTokens, uow_factory=unit_of_work.provider, tokens=token_service, clock=clock
    )
    logout = providers.Singleton(
        Logout,
        uow_factory=unit_of_work.provider,
        tokens=token_service,
        clock=clock,
        live=quick_publisher,
    )
    logout_all = providers.Singleton(
        LogoutAll, uow_factory=unit_of_work.provider, clock=clock, live=quick_publisher
    )

    list_sessions = providers.Singleton(ListSessions, credentials=credential_reader, clock=clock)
    end_session = providers.Singleton(
        EndSession, uow_factory=unit_of_work.provider, clock=clock, live=event_bus
    )
    create_personal_token = providers.Singleton(
        CreatePersonalToken, uow_factory=unit_of_work.provider, clock=clock
    )
    list_personal_tokens = providers.Singleton(ListPersonalTokens, credentials=credential_reader)
    revoke_personal_token = providers.Singleton(
        RevokePersonalToken, uow_factory=unit_of_work.provider, clock=clock
    )
    authenticate_personal_token = providers.Singleton(
        AuthenticatePersonalToken,
        credentials=credential_reader,
        uow_factory=unit_of_work.provider,
        clock=clock,
    )

    # The second factor: codes counted under the login limits, apart from passwords.
    totp = providers.Singleton(PyOtpTotp)
    secret_cipher = providers.Singleton(cipher_for, settings.provided.encryption_key_value.call())
    encryption_key_check = providers.Singleton(
        EncryptionKeyCheck,
        uow_factory=unit_of_work.provider,
        key_configured=providers.Callable(factories.has_encryption_key, settings),
    )
    mfa_throttle = providers.Singleton(
        LoginThrottle,
        per_account=login_account_limiter,
        per_address=login_address_limiter,
        prefix="mfa",
    )
    second_factor_codes = providers.Singleton(
        SecondFactorCodes,
        totp=totp,
        cipher=secret_cipher,
        clock=clock,
        throttle=mfa_throttle,
        trail=security_event_log,
        throttled_once=throttled_login_once,
    )
    setup_totp = providers.Singleton(
        SetupTotp,
        uow_factory=unit_of_work.provider,
        codes=second_factor_codes,
        clock=clock,
        issuer="Keel",
    )
    confirm_totp = providers.Singleton(
        ConfirmTotp,
        uow_factory=unit_of_work.provider,
        codes=second_factor_codes,
        tokens=token_service,
        clock=clock,
    )
    verify_mfa = providers.Singleton(
        VerifyMfa,
        uow_factory=unit_of_work.provider,
        codes=second_factor_codes,
        tokens=token_service,
        clock=clock,
    )
    disable_totp = providers.Singleton(
        DisableTotp,
        uow_factory=unit_of_work.provider,
        codes=second_factor_codes,
        hasher=password_hasher,
        clock=clock,
        password_throttle=login_throttle,
        required_roles=settings.provided.mfa_required_roles,
    )
    renew_recovery_codes = providers.Singleton(
        RenewRecoveryCodes,
        uow_factory=unit_of_work.provider,
        codes=second_factor_codes,
        clock=clock,
    )
    resolve_setup_token = providers.Singleton(
        ResolveSetupToken, uow_factory=unit_of_work.provider, tokens=token_service, clock=clock
    )
    reencrypt_secrets = providers.Singleton(
        ReencryptSecrets, uow_factory=unit_of_work.provider, cipher=secret_cipher
    )
    operator_disable_mfa = providers.Singleton(
        OperatorDisableMfa, uow_factory=unit_of_work.provider, clock=clock
    )

    get_user = providers.Singleton(GetUser, users=user_reader)
    list_users = providers.Singleton(ListUsers, users=user_reader, cursors=cursor_codec)
    update_user = providers.Singleton(
        UpdateUser,
        uow_factory=unit_of_work.provider,
        users=user_reader,
        hasher=password_hasher,
        clock=clock,
        common_passwords=common_passwords,
        throttle=login_throttle,
        live=quick_publisher,
    )
    delete_user = providers.Singleton(
        DeleteUser,
        uow_factory=unit_of_work.provider,
        clock=clock,
        live=quick_publisher,
        counts=item_counts,
    )
    list_security_events = providers.Singleton(ListSecurityEvents, events=security_event_reader)
    account_trail = providers.Singleton(
        AccountTrail, users=user_reader, events=security_event_reader
    )

    create_item = providers.Singleton(
        CreateItem,
        uow_factory=unit_of_work.provider,
        clock=clock,
        live=quick_publisher,
        counts=item_counts,
    )
    get_item = providers.Singleton(GetItem, items=item_reader)
    list_items = providers.Singleton(
        ListItems, items=item_reader, cursors=cursor_codec, counts=item_counts
    )
    update_item = providers.Singleton(
        UpdateItem, uow_factory=unit_of_work.provider, clock=clock, live=quick_publisher
    )
    delete_item = providers.Singleton(
        DeleteItem,
        uow_factory=unit_of_work.provider,
        clock=clock,
        live=quick_publisher,
        counts=item_counts,
    )

    attachment_limits = providers.Singleton(
        AttachmentLimits,
        max_bytes=settings.provided.attachment_max_bytes,
        quota_bytes=settings.provided.attachment_quota_bytes,
        types=settings.provided.attachment_types,
    )
    upload_attachment = providers.Singleton(
        UploadAttachment,
        uow_factory=unit_of_work.provider,
        items=item_reader,
        blobs=blob_store,
        clock=clock,
        limits=attachment_limits,
    )
    list_attachments = providers.Singleton(
        ListAttachments, items=item_reader, attachments=attachment_reader, cursors=cursor_codec
    )
    get_attachment = providers.Singleton(
        GetAttachment, items=item_reader, attachments=attachment_reader, blobs=blob_store
    )
    delete_attachment = providers.Singleton(DeleteAttachment, uow_factory=unit_of_work.provider)

    request_password_reset = providers.Singleton(
        RequestPasswordReset, events=event_recorder, limiter=mail_limiter
    )
    confirm_password_reset = providers.Singleton(
        ConfirmPasswordReset,
        uow_factory=unit_of_work.provider,
        hasher=password_hasher,
        clock=clock,
        common_passwords=common_passwords,
        live=quick_publisher,
    )
    resend_verification = providers.Singleton(
        ResendVerification, uow_factory=unit_of_work.provider, limiter=mail_limiter
    )
    verify_email = providers.Singleton(VerifyEmail, uow_factory=unit_of_work.provider, clock=clock)
    check_mail_token = providers.Singleton(
        CheckMailToken, uow_factory=unit_of_work.provider, clock=clock
    )
    email_sender = providers.Singleton(factories.email_sender, settings)

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
    publish_live_event = providers.Singleton(PublishLiveEvent, bus=event_bus)
    publish_items_deleted = providers.Singleton(PublishItemsDeleted, bus=event_bus)
    remove_blobs = providers.Singleton(RemoveBlobs, blobs=blob_store)
    job_handlers = providers.Dict(
        {
            UserRegistered: send_welcome_mail,
            VerificationRequested: send_verification_link,
            PasswordResetRequested: send_reset_link,
            ItemCreated: publish_live_event,
            ItemUpdated: publish_live_event,
            ItemDeleted: publish_live_event,
            OwnerItemsDeleted: publish_items_deleted,
            SessionsEnded: publish_live_event,
            AttachmentsRemoved: remove_blobs,
        }
    )
    delete_expired = providers.Singleton(
        DeleteExpired,
        uow_factory=unit_of_work.provider,
        clock=clock,
        audit_retention_days=settings.provided.audit_retention_days,
    )
    remove_abandoned_uploads = providers.Singleton(
        RemoveAbandonedUploads, uow_factory=unit_of_work.provider, blobs=blob_store, clock=clock
    )
    # The job queue (procrastinate) is loaded only by what runs or retries jobs: a serving
    # process that leaves its jobs to `keel worker` never imports it.
    job_app = providers.Singleton(
        factories.job_app,
        settings,
        job_handlers,
        delete_expired,
        metrics,
        remove_abandoned_uploads=remove_abandoned_uploads,
    )
    job_runner = providers.Factory(
        factories.job_runner,
        job_app,
        unit_of_work.provider,
        engine,
        settings,
        outbox_wakeup,
        metrics,
    )
    job_queue = providers.Singleton(factories.job_queue, settings, engine, job_app.provider)


def build_container(settings: Settings) -> Container:
    return Container(settings=settings)


async def shutdown_container(container: Container) -> None:
    """Release what the container started: the hashing threads, the Redis client, the S3
    client and the database pool. The pool is closed even when releasing the rest fails."""
    try:
        container.password_hasher().close()
        await container.quick_publisher().close()
        await container.event_bus().close()
        await factories.close_blob_store(container.blob_store())
        await container.socket_slots().close()
        await container.cache().close()
        store = container.rate_limit_store()  # the Redis client, when there is one
        if store is not None:
            await store.close()
    finally:
        await close_engine(container.engine())


async def encryption_key_cause(settings: Settings) -> str | None:
    """At start-up, where no ``ENCRYPTION_KEY`` is set: why the service must not start (a
    second factor is on), or None. A database that cannot be reached is no reason: the
    service starts, and its readiness says so once the database answers."""
    if settings.encryption_key_value() is not None:
        return None
    container = build_container(settings)
    try:
        return await container.encryption_key_check().cause()
    except StorageUnavailable:
        return None
    finally:
        await container.engine().dispose()
