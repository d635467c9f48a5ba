"""Consent flows: server-side state of the WebView pages.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from webview_bridge.store.schema import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_flows",
        sa.Column("request_id", sa.String(40), sa.ForeignKey("token_requests.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("bank_id", sa.String(64)),
        sa.Column("bank_nonce", sa.String(64)),
        sa.Column("customer_ref", sa.String(128)),
        sa.Column("customer_id", sa.String(40)),
        sa.Column("session_hash", sa.String(64)),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("consent_flows")
