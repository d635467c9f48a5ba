"""The sandbox bank's own tables, on the project's shared metadata (so Alembic and the test
templates see them). Everything lives in the database, so several server instances on one
PostgreSQL database are one bank: a consent made through one is authorised through another."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Date, ForeignKey, Index, Integer, String, Table, Text

from webview_bridge.store.schema import UtcDateTime, metadata

sandbox_bank_consents = Table(
    "sandbox_bank_consents",
    metadata,
    Column("id", String(64), primary_key=True),  # the consentId, random
    Column("bank_id", String(64), nullable=False),
    Column("status", String(20), nullable=False),  # as stored; expiry is worked out from valid_until
    Column("access", JSON, nullable=False),  # what the TPP asked for, as it asked
    Column("recurring", Boolean, nullable=False),
    Column("valid_until", Date, nullable=False),  # after the bank's adjustment
    Column("frequency_per_day", Integer, nullable=False),
    Column("redirect_uri", Text),  # null for consents granted through the trusted API
    Column("nok_redirect_uri", Text),
    Column("tpp_brand", String(140)),  # TPP-Brand-Logging-Information, decoded
    Column("psu_id", String(128)),  # the login that authorised it
    Column("accounts", JSON),  # resourceIds the PSU granted, once authorised
    Column("created_at", UtcDateTime, nullable=False),
    Column("status_changed_at", UtcDateTime, nullable=False),
)

# The SCA redirect of one consent. The page link carries a random token; only its hash is kept.
sandbox_bank_authorisations = Table(
    "sandbox_bank_authorisations",
    metadata,
    Column("link_hash", String(64), primary_key=True),
    Column("consent_id", String(64), ForeignKey("sandbox_bank_consents.id", ondelete="CASCADE"), nullable=False,
           unique=True),
    Column("step", String(12), nullable=False),  # login | otp | consent | done
    Column("browser_hash", String(64)),  # hash of the cookie of the browser that opened the link first
    Column("psu_id", String(128)),  # who passed the password step
    Column("failures", Integer, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

# Failed logins per user name, across authorisations, for the lock-out.
sandbox_bank_login_failures = Table(
    "sandbox_bank_login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("bank_id", String(64), nullable=False),
    Column("username", String(128), nullable=False),
    Column("failed_at", UtcDateTime, nullable=False),
    Index("ix_sandbox_bank_login_failures_user", "bank_id", "username", "failed_at"),
)

# Calls made without the customer (no PSU-IP-Address), per consent, resource and UTC day.
sandbox_bank_usage = Table(
    "sandbox_bank_usage",
    metadata,
    Column("consent_id", String(64), ForeignKey("sandbox_bank_consents.id", ondelete="CASCADE"), primary_key=True),
    Column("resource", String(200), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("calls", Integer, nullable=False),
)
