"""Customizations: TPP themes for the pages.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from webview_bridge.store.schema import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customizations",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("app_id", sa.String(40), sa.ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("logo", sa.Text),
        sa.Column("colors", sa.JSON, nullable=False),
        sa.Column("dark_colors", sa.JSON, nullable=False),
        sa.Column("corner_radius_px", sa.Integer),
        sa.Column("consent_text", sa.Text),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_customizations_app_id", "customizations", ["app_id"])


def downgrade() -> None:
    op.drop_table("customizations")
