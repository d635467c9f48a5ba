"""Foundation: server keys, apps, callback secrets, OAuth token families.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from webview_bridge.store.schema import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "server_keys",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "apps",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("roles", sa.String(20), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("redirect_urls", sa.JSON, nullable=False),
        sa.Column("bank_id", sa.String(64)),
        sa.Column("independent_activation", sa.Boolean, nullable=False),
        sa.Column("embed_origin", sa.String(255)),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("secret_hash", name="uq_apps_secret_hash"),
    )
    op.create_table(
        "callback_secrets",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("app_id", sa.String(40), sa.ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
        sa.Column("ciphertext", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("retired", sa.Boolean, nullable=False),
    )
    op.create_index("ix_callback_secrets_app_id", "callback_secrets", ["app_id"])
    op.create_table(
        "oauth_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("app_id", sa.String(40), sa.ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
        sa.Column("family_id", sa.String(40), nullable=False),
        sa.Column("scope", sa.String(40), nullable=False),
        sa.Column("access_token_hash", sa.String(64), nullable=False),
        sa.Column("refresh_token_hash", sa.String(64)),
        sa.Column("issued_at", UtcDateTime, nullable=False),
        sa.Column("access_expires_at", UtcDateTime, nullable=False),
        sa.Column("refresh_expires_at", UtcDateTime),
        sa.Column("refresh_used", sa.Boolean, nullable=False),
        sa.Column("revoked", sa.Boolean, nullable=False),
        sa.UniqueConstraint("access_token_hash", name="uq_oauth_tokens_access_token_hash"),
        sa.UniqueConstraint("refresh_token_hash", name="uq_oauth_tokens_refresh_token_hash"),
    )
    op.create_index("ix_oauth_tokens_family_id", "oauth_tokens", ["family_id"])


def downgrade() -> None:
    op.drop_table("oauth_tokens")
    op.drop_table("callback_secrets")
    op.drop_table("apps")
    op.drop_table("server_keys")
