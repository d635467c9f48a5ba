"""Customers, their phone hashes, client tokens and the WebView sessions they start.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from webview_bridge.store.schema import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("bank_app_id", sa.String(40), sa.ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
        sa.Column("client_id", sa.String(128)),
        sa.Column("activation", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("bank_app_id", "client_id", name="uq_customers_bank_app_client"),
    )
    op.create_table(
        "customer_phones",
        sa.Column("bank_app_id", sa.String(40), sa.ForeignKey("apps.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("phone_hash", sa.String(64), primary_key=True),
        sa.Column("customer_id", sa.String(40), sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("is_primary", sa.Boolean, nullable=False),
    )
    op.create_index("ix_customer_phones_customer_id", "customer_phones", ["customer_id"])
    op.create_table(
        "client_tokens",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("bank_app_id", sa.String(40), sa.ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
        sa.Column("customer_id", sa.String(40)),
        sa.Column("pending_client_id", sa.String(128)),
        sa.Column("pending_phones", sa.JSON),
        sa.Column("activation", sa.String(16), nullable=False),
        sa.Column("strong_auth", sa.Boolean, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.Column("used_at", UtcDateTime),
        sa.UniqueConstraint("token_hash", name="uq_client_tokens_token_hash"),
    )
    op.create_table(
        "web_sessions",
        sa.Column("session_hash", sa.String(64), primary_key=True),
        sa.Column("client_token_id", sa.String(40), sa.ForeignKey("client_tokens.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("web_sessions")
    op.drop_table("client_tokens")
    op.drop_table("customer_phones")
    op.drop_table("customers")
