"""The tables. Migrations under migrations/versions freeze each change to them."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, Boolean, Column, DateTime, ForeignKey, Index, Integer, MetaData, String, Table, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (which has no time zones) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

server_keys = Table(
    "server_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("secret", String(128), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

apps = Table(
    "apps",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("roles", String(20), nullable=False),  # "tpp", "bank" or "bank tpp"
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("redirect_urls", JSON, nullable=False),
    Column("bank_id", String(64)),
    Column("independent_activation", Boolean, nullable=False, default=False),
    Column("embed_origin", String(255)),
    Column("created_at", UtcDateTime, nullable=False),
)

callback_secrets = Table(
    "callback_secrets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("app_id", String(40), ForeignKey("apps.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("ciphertext", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("retired", Boolean, nullable=False, default=False),
)

# One row per issued access/refresh pair. A family is everything descended from one
# client-credentials grant; reuse of a spent refresh token revokes the whole family.
oauth_tokens = Table(
    "oauth_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("app_id", String(40), ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("family_id", String(40), nullable=False, index=True),
    Column("scope", String(40), nullable=False),
    Column("access_token_hash", String(64), nullable=False, unique=True),
    Column("refresh_token_hash", String(64), unique=True),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("access_expires_at", UtcDateTime, nullable=False),
    Column("refresh_expires_at", UtcDateTime),
    Column("refresh_used", Boolean, nullable=False, default=False),
    Column("revoked", Boolean, nullable=False, default=False),
)

# A TPP's request for access (PROTOCOL §5). `details` holds the validated fields as given;
# PENDING turns EXPIRED by the clock when read, so no job has to sweep.
token_requests = Table(
    "token_requests",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("app_id", String(40), ForeignKey("apps.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("status", String(16), nullable=False),  # PENDING | PROCESSED | REJECTED
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("csrf_token_hash", String(64), nullable=False),
    Column("details", JSON, nullable=False),
    Column("token_id", String(40)),
    Column("error", String(40)),
    Column("decided_at", UtcDateTime),
)

# The consent a customer gave (PROTOCOL §7). request_id is unique: one request, one token at most.
tokens = Table(
    "tokens",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("request_id", String(40), ForeignKey("token_requests.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("app_id", String(40), ForeignKey("apps.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("customer_id", String(40), nullable=False),
    Column("customer_ref", String(128), nullable=False),  # the bank's own name for the customer
    Column("bank_id", String(64), nullable=False),
    Column("resources", JSON, nullable=False),
    Column("account_ids", JSON, nullable=False),
    Column("status", String(16), nullable=False),  # ACTIVE | CANCELLED; EXPIRED by the clock
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("cancelled_at", UtcDateTime),
    # What the bank's connector needs to read later (its consent id, account map…), encrypted
    # under the server keys; never shown, never logged.
    Column("bank_consent", Text),
    Column("bank_user", String(128)),  # the bank's name for the customer, when its connector says
    Column("accounts", JSON),  # [{"id", "name"}] as the bank named them when the consent was given
    Column("replaces_token_id", String(40)),  # re-consent: the token this one renewed
)

# Where a customer's consent flow stands, kept on the server so it can finish in another
# browser (external bank auth). bank_nonce is spent by the bank's return, so it works once;
# session_hash binds the consent screen to the browser that came back from the bank.
consent_flows = Table(
    "consent_flows",
    metadata,
    Column("request_id", String(40), ForeignKey("token_requests.id", ondelete="CASCADE"), primary_key=True),
    Column("bank_id", String(64)),
    Column("bank_nonce", String(64)),
    Column("customer_ref", String(128)),
    Column("customer_id", String(40)),
    Column("session_hash", String(64)),  # the session that chose the bank: the only one shown the flow
    Column("updated_at", UtcDateTime, nullable=False),
    Column("bank_handle", Text),  # the connector's handle for the consent being authorised, encrypted
    Column("finished_session_hash", String(64)),  # the session shown the way back once it ended
)

# A bank app's customers (PROTOCOL §3). client_id is unique within the bank app; a phone hash
# belongs to one customer of the bank app at a time.
customers = Table(
    "customers",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("bank_app_id", String(40), ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("client_id", String(128)),
    Column("activation", String(16), nullable=False),  # preloaded | independent
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("bank_app_id", "client_id", name="uq_customers_bank_app_client"),
)

customer_phones = Table(
    "customer_phones",
    metadata,
    Column("bank_app_id", String(40), ForeignKey("apps.id", ondelete="CASCADE"), primary_key=True),
    Column("phone_hash", String(64), primary_key=True),
    Column("customer_id", String(40), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("is_primary", Boolean, nullable=False),
)

# Client tokens, stored as keyed hashes. For a customer not yet known (independent activation)
# the phones or client id wait here until the customer accepts.
client_tokens = Table(
    "client_tokens",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("bank_app_id", String(40), ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("customer_id", String(40)),
    Column("pending_client_id", String(128)),
    Column("pending_phones", JSON),
    Column("activation", String(16), nullable=False),  # preloaded | required | independent
    Column("strong_auth", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime),
)

# Every WebView session the server issued (PROTOCOL §6): a cookie whose hash is not here is not
# adopted. client_token_id is set for sessions begun by a client-token hand-off.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("session_hash", String(64), primary_key=True),
    Column("client_token_id", String(40), ForeignKey("client_tokens.id", ondelete="CASCADE")),
    Column("created_at", UtcDateTime, nullable=False),
)

# A TPP's theme for the pages (PROTOCOL §8). Colours as given; defaults fill the rest when used.
customizations = Table(
    "customizations",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("app_id", String(40), ForeignKey("apps.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("display_name", String(100), nullable=False),
    Column("logo", Text),  # data: URI, checked: PNG, JPEG or WebP, at most 100 KB decoded
    Column("colors", JSON, nullable=False),
    Column("dark_colors", JSON, nullable=False),
    Column("corner_radius_px", Integer),
    Column("consent_text", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# Fixed-window request counters, so every instance on one PostgreSQL database shares the limits.
rate_counters = Table(
    "rate_counters",
    metadata,
    Column("bucket", String(120), primary_key=True),
    Column("window", Integer, primary_key=True),
    Column("hits", Integer, nullable=False),
)

# Bank answers per token (PROTOCOL §7), so a TPP's rereads stay within the bank's daily allowance.
# Encrypted: it is account data.
bank_cache = Table(
    "bank_cache",
    metadata,
    Column("token_id", String(40), ForeignKey("tokens.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("body", Text, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

# Work promised in the same transaction as the change that needs it (a bank consent to end, a
# webhook to send), done by the background worker until it succeeds: nothing acknowledged is lost.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("topic", String(40), nullable=False),
    Column("ordering_key", String(64)),  # rows with one key are done in order
    Column("payload", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", String(200)),
    Column("done_at", UtcDateTime),
    Index("ix_outbox_pending", "done_at", "due_at"),
)


# A TPP's webhook endpoints (PROTOCOL §12). The secret signs, so it is kept retrievable, encrypted.
webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("app_id", String(40), ForeignKey("apps.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("url", String(2000), nullable=False),
    Column("events", JSON),  # None: every event type
    Column("status", String(16), nullable=False),  # active | disabled
    Column("secret_ciphertext", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("failing_since", UtcDateTime),
    Column("last_error", String(200)),
    Column("disabled_reason", String(200)),
)

# What happened, per app (PROTOCOL §12): delivered by webhook, and listed by GET /events for 30 days.
events = Table(
    "events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),  # the order events happened in
    Column("id", String(40), nullable=False, unique=True),
    Column("app_id", String(40), ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("type", String(40), nullable=False),
    Column("data", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_events_app_seq", "app_id", "seq"),
)

# The last status each bank was seen with, so a change is told once, by one instance.
bank_statuses = Table(
    "bank_statuses",
    metadata,
    Column("bank_id", String(64), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

def _sandbox_bank_tables() -> None:
    """The built-in sandbox bank keeps its own tables on this metadata (its migration is 0008)."""
    import webview_bridge.sandbox_bank.schema  # noqa: F401


_sandbox_bank_tables()
