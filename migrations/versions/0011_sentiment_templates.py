"""templates of outbound mail and the sentiment of inbound mail

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 14:20:00

Plain ADD COLUMN on email_messages (no batch rebuild): a rebuild would lose the search
triggers that 0006 put on it, so template_id has no foreign key (templates are never
deleted). Messages stored before this revision have no scores and no templates until
``crm insight backfill`` runs.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crm_core.models.types

# revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "message_templates",
        sa.Column("id", sa.String(length=25), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("signature", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", crm_core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", crm_core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_templates")),
        sa.UniqueConstraint("name", name=op.f("uq_message_templates_name")),
    )
    op.create_table(
        "message_template_bands",
        sa.Column("band_key", sa.String(length=40), nullable=False),
        sa.Column("template_id", sa.String(length=25), nullable=False),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["message_templates.id"],
            name=op.f("fk_message_template_bands_template_id_message_templates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("band_key", "template_id", name=op.f("pk_message_template_bands")),
    )
    op.create_index(
        op.f("ix_message_template_bands_template_id"), "message_template_bands", ["template_id"]
    )
    op.add_column("email_messages", sa.Column("template_id", sa.String(length=25), nullable=True))
    op.add_column("email_messages", sa.Column("sentiment_score", sa.Float(), nullable=True))
    op.add_column(
        "email_messages", sa.Column("sentiment_label", sa.String(length=10), nullable=True)
    )
    op.create_index(op.f("ix_email_messages_template_id"), "email_messages", ["template_id"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_email_messages_template_id"), table_name="email_messages")
    # Plain DROP COLUMN (SQLite 3.35+), for the search triggers as above.
    op.drop_column("email_messages", "sentiment_label")
    op.drop_column("email_messages", "sentiment_score")
    op.drop_column("email_messages", "template_id")
    op.drop_index(
        op.f("ix_message_template_bands_template_id"), table_name="message_template_bands"
    )
    op.drop_table("message_template_bands")
    op.drop_table("message_templates")
