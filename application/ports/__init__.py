"""Ports: what the use cases need from the outside world, as protocols the adapters
implement, by concern: the write side (``storage``), the read side (``reads``), passwords,
tokens and limits (``security``), and the rest (``services``). Every port is importable
from here."""

from application.ports.audit import (
    EventPage,
    EventPageRequest,
    SecurityEventFilter,
    SecurityEventLog,
    SecurityEventReader,
    SecurityEventStore,
)
from application.ports.cache import Cache
from application.ports.live import (
    Delivery,
    EventBus,
    Notice,
    Reset,
    SocketSlots,
    SubscriberTooSlow,
    Subscription,
)
from application.ports.mfa import SecondFactorStore, SecretCipher, TotpAlgorithm
from application.ports.reads import (
    CredentialReader,
    ItemFilter,
    ItemReader,
    UserFilter,
    UserReader,
)
from application.ports.security import (
    AccessClaims,
    CommonPasswords,
    IssuedToken,
    PasswordHasher,
    RateLimiter,
    TokenService,
)
from application.ports.services import (
    Clock,
    EmailSender,
    HealthProbe,
    JobQueue,
    JobSummary,
    KindBacklog,
)
from application.ports.storage import (
    EventRecorder,
    ItemRepository,
    OneTimeTokenStore,
    OutboxEntry,
    OutboxStore,
    PersonalTokenStore,
    SessionStore,
    UnitOfWork,
    UnitOfWorkFactory,
    UserRepository,
)

__all__ = [
    "AccessClaims",
    "Cache",
    "Clock",
    "CommonPasswords",
    "CredentialReader",
    "Delivery",
    "EmailSender",
    "EventBus",
    "EventPage",
    "EventPageRequest",
    "EventRecorder",
    "HealthProbe",
    "IssuedToken",
    "ItemFilter",
    "ItemReader",
    "ItemRepository",
    "JobQueue",
    "JobSummary",
    "KindBacklog",
    "Notice",
    "OneTimeTokenStore",
    "OutboxEntry",
    "OutboxStore",
    "PasswordHasher",
    "PersonalTokenStore",
    "RateLimiter",
    "Reset",
    "SecondFactorStore",
    "SecretCipher",
    "SecurityEventFilter",
    "SecurityEventLog",
    "SecurityEventReader",
    "SecurityEventStore",
    "SessionStore",
    "SocketSlots",
    "SubscriberTooSlow",
    "Subscription",
    "TokenService",
    "TotpAlgorithm",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "UserFilter",
    "UserReader",
    "UserRepository",
]
