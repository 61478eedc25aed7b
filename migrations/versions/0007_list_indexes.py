"""indexes for every list and report

Each list's filter and order, and each report's order, is an index, so a page reads
its own rows instead of sorting the table (measured in bench/scale.py). The status
indexes these replace are their prefixes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 11:34:20.610041

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def desc(column: str) -> sa.ColumnElement[object]:
    return sa.literal_column(f"{column} DESC")


def upgrade() -> None:
    """Upgrade schema."""
    op.drop_index(op.f("ix_customers_status"), table_name="customers")
    op.create_index(
        "ix_customers_status_created_at", "customers", ["status", desc("created_at"), desc("id")]
    )
    op.create_index("ix_customers_created_at", "customers", [desc("created_at"), desc("id")])
    op.create_index(
        "ix_customers_status_total_revenue", "customers", ["status", desc("total_revenue"), "name"]
    )
    op.create_index(
        "ix_conversations_last_contact_at", "conversations", [desc("last_contact_at"), desc("id")]
    )
    op.create_index("ix_conversations_gmail_thread_id", "conversations", ["gmail_thread_id"])
    op.create_index("ix_email_messages_gmail_message_id", "email_messages", ["gmail_message_id"])
    op.create_index(
        "ix_email_messages_ai_model",
        "email_messages",
        ["ai_model"],
        postgresql_where=sa.text("is_ai_generated"),
        sqlite_where=sa.text("is_ai_generated = 1"),
    )
    op.create_index(
        "ix_leads_status_created_at", "leads", ["status", desc("created_at"), desc("id")]
    )
    op.create_index("ix_leads_created_at", "leads", [desc("created_at"), desc("id")])
    op.drop_index(op.f("ix_quotes_status"), table_name="quotes")
    op.create_index(
        "ix_quotes_status_created_at", "quotes", ["status", desc("created_at"), desc("id")]
    )
    op.create_index("ix_quotes_created_at", "quotes", [desc("created_at"), desc("id")])
    op.drop_index(op.f("ix_bookings_status"), table_name="bookings")
    op.create_index(
        "ix_bookings_status_scheduled_at", "bookings", ["status", desc("scheduled_at"), desc("id")]
    )
    op.create_index("ix_bookings_scheduled_at", "bookings", [desc("scheduled_at"), desc("id")])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_bookings_scheduled_at", table_name="bookings")
    op.drop_index("ix_bookings_status_scheduled_at", table_name="bookings")
    op.create_index(op.f("ix_bookings_status"), "bookings", ["status"])
    op.drop_index("ix_quotes_created_at", table_name="quotes")
    op.drop_index("ix_quotes_status_created_at", table_name="quotes")
    op.create_index(op.f("ix_quotes_status"), "quotes", ["status"])
    op.drop_index("ix_leads_created_at", table_name="leads")
    op.drop_index("ix_leads_status_created_at", table_name="leads")
    op.drop_index("ix_email_messages_ai_model", table_name="email_messages")
    op.drop_index("ix_email_messages_gmail_message_id", table_name="email_messages")
    op.drop_index("ix_conversations_gmail_thread_id", table_name="conversations")
    op.drop_index("ix_conversations_last_contact_at", table_name="conversations")
    op.drop_index("ix_customers_status_total_revenue", table_name="customers")
    op.drop_index("ix_customers_created_at", table_name="customers")
    op.drop_index("ix_customers_status_created_at", table_name="customers")
    op.create_index(op.f("ix_customers_status"), "customers", ["status"])
