"""notes on customers, leads and conversations; customers merged into another

Revision ID: 0005
Revises: 0007
Create Date: 2026-11-30 11:26:29.517724

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crm_core.models.types

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "notes",
        sa.Column("id", sa.String(length=25), nullable=False),
        sa.Column("customer_id", sa.String(length=25), nullable=True),
        sa.Column("lead_id", sa.String(length=25), nullable=True),
        sa.Column("conversation_id", sa.String(length=25), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", crm_core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "customer_id IS NOT NULL OR lead_id IS NOT NULL OR conversation_id IS NOT NULL",
            name=op.f("ck_notes_has_subject"),
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_notes_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_notes_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_notes_lead_id_leads"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
    )
    op.create_index(op.f("ix_notes_conversation_id"), "notes", ["conversation_id"])
    op.create_index(op.f("ix_notes_customer_id"), "notes", ["customer_id"])
    op.create_index(op.f("ix_notes_lead_id"), "notes", ["lead_id"])

    # A plain column without a foreign key: SQLite can add a column but not a named
    # constraint, and a batch rebuild of customers would drop the table, which with
    # foreign keys on sets every lead's, quote's and booking's customer to NULL.
    # Customers are never deleted (soft delete), so the reference cannot dangle.
    op.add_column("customers", sa.Column("merged_into_id", sa.String(length=25), nullable=True))
    op.add_column(
        "customers",
        sa.Column("merged_at", crm_core.models.types.UTCDateTime(timezone=True), nullable=True),
    )
    op.create_index(op.f("ix_customers_merged_into_id"), "customers", ["merged_into_id"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_customers_merged_into_id"), table_name="customers")
    # Plain DROP COLUMN (SQLite 3.35+): a batch rebuild would lose the search triggers
    # that 0006 put on customers.
    op.drop_column("customers", "merged_at")
    op.drop_column("customers", "merged_into_id")
    op.drop_table("notes")
