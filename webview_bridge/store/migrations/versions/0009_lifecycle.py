"""Consent lifecycle: webhooks and events, re-consent, the customer's grants.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

from webview_bridge.store.schema import UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(sa.Column("accounts", sa.JSON))
        batch.add_column(sa.Column("replaces_token_id", sa.String(40)))
    op.create_table(
        "webhooks",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("app_id", sa.String(40), sa.ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("events", sa.JSON),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("secret_ciphertext", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("failing_since", UtcDateTime),
        sa.Column("last_error", sa.String(200)),
        sa.Column("disabled_reason", sa.String(200)),
    )
    op.create_index("ix_webhooks_app_id", "webhooks", ["app_id"])
    op.create_table(
        "events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("app_id", sa.String(40), sa.ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("id", name="uq_events_id"),
    )
    op.create_index("ix_events_app_seq", "events", ["app_id", "seq"])
    op.create_table(
        "bank_statuses",
        sa.Column("bank_id", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("bank_statuses")
    op.drop_index("ix_events_app_seq", "events")
    op.drop_table("events")
    op.drop_index("ix_webhooks_app_id", "webhooks")
    op.drop_table("webhooks")
    with op.batch_alter_table("tokens") as batch:
        batch.drop_column("replaces_token_id")
        batch.drop_column("accounts")
