"""Token requests and tokens.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from webview_bridge.store.schema import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "token_requests",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("app_id", sa.String(40), sa.ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.Column("csrf_token_hash", sa.String(64), nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("token_id", sa.String(40)),
        sa.Column("error", sa.String(40)),
        sa.Column("decided_at", UtcDateTime),
    )
    op.create_index("ix_token_requests_app_id", "token_requests", ["app_id"])
    op.create_table(
        "tokens",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("request_id", sa.String(40), sa.ForeignKey("token_requests.id", ondelete="CASCADE"), nullable=False),
        sa.Column("app_id", sa.String(40), sa.ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
        sa.Column("customer_id", sa.String(40), nullable=False),
        sa.Column("customer_ref", sa.String(128), nullable=False),
        sa.Column("bank_id", sa.String(64), nullable=False),
        sa.Column("resources", sa.JSON, nullable=False),
        sa.Column("account_ids", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.Column("cancelled_at", UtcDateTime),
        sa.UniqueConstraint("request_id", name="uq_tokens_request_id"),
    )
    op.create_index("ix_tokens_app_id", "tokens", ["app_id"])


def downgrade() -> None:
    op.drop_table("tokens")
    op.drop_table("token_requests")
