"""The schema, in SQLAlchemy Core. Alembic's migrations are checked against this metadata."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    Uuid,
)

# Stable constraint names, so that migrations can name what they drop on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on PostgreSQL and on SQLite (which
    keeps no time zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


users = Table(
    "users",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("hashed_password", String(255), nullable=False),
    Column("full_name", String(255), nullable=True),
    # Space-separated role names: a handful of values, read with the row.
    Column("roles", String(200), nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("is_superuser", Boolean, nullable=False),
    Column("is_verified", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("sessions_valid_after", UTCDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)

# Listings are newest first with the id as tie-breaker: these indexes serve that order,
# whole and per owner, so a page is read straight from the index.
Index("ix_users_created_at_id", users.c.created_at, users.c.id)

items = Table(
    "items",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("owner_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)
Index("ix_items_owner_id_created_at_id", items.c.owner_id, items.c.created_at, items.c.id)
Index("ix_items_created_at_id", items.c.created_at, items.c.id)
# The `q` search, a substring of the title ignoring case: a trigram index on PostgreSQL
# (ILIKE uses it); SQLite has none.
POSTGRESQL_ONLY_INDEXES = frozenset({"ix_items_title_trgm"})
Index(
    "ix_items_title_trgm",
    items.c.title,
    postgresql_using="gin",
    postgresql_ops={"title": "gin_trgm_ops"},
).ddl_if(dialect="postgresql")

# Refresh sessions: the token itself is never stored, only its SHA-256.
refresh_sessions = Table(
    "refresh_sessions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("family_id", Uuid, nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("replaced_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    # The family's login (None on rows stored before it was kept: their own created_at).
    Column("started_at", UTCDateTime, nullable=True),
    Column("user_agent", String(256), nullable=True),
    Column("address", String(64), nullable=True),
)
Index("ix_refresh_sessions_user_id", refresh_sessions.c.user_id)
Index("ix_refresh_sessions_family_id", refresh_sessions.c.family_id)

# Personal access tokens: the digest only (unique, so a lookup is one index probe).
personal_tokens = Table(
    "personal_tokens",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("scopes", String(200), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("shown", String(8), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
)
Index(
    "ix_personal_tokens_user_id_created_at", personal_tokens.c.user_id, personal_tokens.c.created_at
)

one_time_tokens = Table(
    "one_time_tokens",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("email", String(320), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
)
Index(
    "ix_one_time_tokens_user_id_purpose_created_at",
    one_time_tokens.c.user_id,
    one_time_tokens.c.purpose,
    one_time_tokens.c.created_at,
)

# The transactional outbox: what must happen after a change, stored in the change's own
# transaction and moved into the job queue by a relay (which then owns its retries).
outbox = Table(
    "outbox",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("traceparent", String(55), nullable=True),
)
Index("ix_outbox_created_at", outbox.c.created_at)

# The security audit trail: appended, never updated (on PostgreSQL a trigger refuses an
# UPDATE), deleted only by the retention clean-up. No foreign key: the record of what
# happened to an account outlives the account.
security_events = Table(
    "security_events",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("type", String(64), nullable=False),
    Column("user_id", Uuid, nullable=True),
    Column("actor_id", Uuid, nullable=True),
    Column("address", String(64), nullable=True),
    Column("user_agent", String(256), nullable=True),
    Column("at", UTCDateTime, nullable=False),
    Column("details", Text, nullable=False),
)
# Newest first, for one user, one actor, one type, or everyone (and oldest first for the
# retention clean-up, the same index read backwards).
for _by in ("user_id", "actor_id", "type"):
    Index(
        f"ix_security_events_{_by}_at_id",
        security_events.c[_by],
        security_events.c.at,
        security_events.c.id,
    )
Index("ix_security_events_at_id", security_events.c.at, security_events.c.id)

# Attachments' metadata; the bytes are in blob storage under ``storage_key``. ``owner_id`` is
# the item's owner, whose quota the size counts against.
attachments = Table(
    "attachments",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("item_id", Uuid, ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
    Column("owner_id", Uuid, nullable=False),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("storage_key", String(512), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
Index(
    "ix_attachments_item_id_created_at_id",
    attachments.c.item_id,
    attachments.c.created_at,
    attachments.c.id,
)
Index("ix_attachments_owner_id", attachments.c.owner_id)

# Uploads begun and not yet finished: committed before the first byte is stored, removed
# with the attachment's row. What a crash leaves here the clean-up removes, bytes first.
attachment_uploads = Table(
    "attachment_uploads",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("storage_key", String(512), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
)
Index("ix_attachment_uploads_started_at", attachment_uploads.c.started_at)

# The bytes each user's attachments take, changed only by conditional increments.
attachment_usage = Table(
    "attachment_usage",
    metadata,
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("used_bytes", BigInteger, nullable=False),
)

# The second factor: one TOTP secret per user (encrypted; pending until confirmed) and
# its recovery codes (digests only).
totp_credentials = Table(
    "totp_credentials",
    metadata,
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("secret_ciphertext", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("confirmed_at", UTCDateTime, nullable=True),
    Column("last_step", BigInteger, nullable=True),
)

recovery_codes = Table(
    "recovery_codes",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
)
Index("ix_recovery_codes_user_id_code_hash", recovery_codes.c.user_id, recovery_codes.c.code_hash)
