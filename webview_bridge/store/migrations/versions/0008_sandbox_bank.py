"""The sandbox ASPSP's own storage: its consents, their SCA redirects, failed logins for the
lock-out, and the per-day count of calls made without the customer (frequencyPerDay).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from webview_bridge.store.schema import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sandbox_bank_consents",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("bank_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("access", sa.JSON, nullable=False),
        sa.Column("recurring", sa.Boolean, nullable=False),
        sa.Column("valid_until", sa.Date, nullable=False),
        sa.Column("frequency_per_day", sa.Integer, nullable=False),
        sa.Column("redirect_uri", sa.Text),
        sa.Column("nok_redirect_uri", sa.Text),
        sa.Column("tpp_brand", sa.String(140)),
        sa.Column("psu_id", sa.String(128)),
        sa.Column("accounts", sa.JSON),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("status_changed_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sandbox_bank_consents"),
    )
    op.create_table(
        "sandbox_bank_authorisations",
        sa.Column("link_hash", sa.String(64), nullable=False),
        sa.Column("consent_id", sa.String(64), nullable=False),
        sa.Column("step", sa.String(12), nullable=False),
        sa.Column("browser_hash", sa.String(64)),
        sa.Column("psu_id", sa.String(128)),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("link_hash", name="pk_sandbox_bank_authorisations"),
        sa.ForeignKeyConstraint(["consent_id"], ["sandbox_bank_consents.id"], ondelete="CASCADE",
                                name="fk_sandbox_bank_authorisations_consent_id"),
        sa.UniqueConstraint("consent_id", name="uq_sandbox_bank_authorisations_consent_id"),
    )
    op.create_table(
        "sandbox_bank_login_failures",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("bank_id", sa.String(64), nullable=False),
        sa.Column("username", sa.String(128), nullable=False),
        sa.Column("failed_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sandbox_bank_login_failures"),
    )
    op.create_index("ix_sandbox_bank_login_failures_user", "sandbox_bank_login_failures",
                    ["bank_id", "username", "failed_at"])
    op.create_table(
        "sandbox_bank_usage",
        sa.Column("consent_id", sa.String(64), nullable=False),
        sa.Column("resource", sa.String(200), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("calls", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("consent_id", "resource", "day", name="pk_sandbox_bank_usage"),
        sa.ForeignKeyConstraint(["consent_id"], ["sandbox_bank_consents.id"], ondelete="CASCADE",
                                name="fk_sandbox_bank_usage_consent_id"),
    )


def downgrade() -> None:
    op.drop_table("sandbox_bank_usage")
    op.drop_index("ix_sandbox_bank_login_failures_user", "sandbox_bank_login_failures")
    op.drop_table("sandbox_bank_login_failures")
    op.drop_table("sandbox_bank_authorisations")
    op.drop_table("sandbox_bank_consents")
