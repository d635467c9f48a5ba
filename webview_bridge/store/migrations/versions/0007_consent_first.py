"""Consent before the bank: the bank's consent kept (encrypted) beside the token, the flow's bank
handle, server-issued sessions, the per-token cache of bank answers, and the outbox.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from webview_bridge.store.schema import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(sa.Column("bank_consent", sa.Text))
        batch.add_column(sa.Column("bank_user", sa.String(128)))
    with op.batch_alter_table("consent_flows") as batch:
        batch.add_column(sa.Column("bank_handle", sa.Text))
        batch.add_column(sa.Column("finished_session_hash", sa.String(64)))
    with op.batch_alter_table("web_sessions") as batch:
        batch.alter_column("client_token_id", existing_type=sa.String(40), nullable=True)
    op.create_table(
        "bank_cache",
        sa.Column("token_id", sa.String(40), sa.ForeignKey("tokens.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("topic", sa.String(40), nullable=False),
        sa.Column("ordering_key", sa.String(64)),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("due_at", UtcDateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.String(200)),
        sa.Column("done_at", UtcDateTime),
    )
    op.create_index("ix_outbox_pending", "outbox", ["done_at", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_pending", "outbox")
    op.drop_table("outbox")
    op.drop_table("bank_cache")
    with op.batch_alter_table("web_sessions") as batch:
        batch.alter_column("client_token_id", existing_type=sa.String(40), nullable=False)
    with op.batch_alter_table("consent_flows") as batch:
        batch.drop_column("finished_session_hash")
        batch.drop_column("bank_handle")
    with op.batch_alter_table("tokens") as batch:
        batch.drop_column("bank_user")
        batch.drop_column("bank_consent")
