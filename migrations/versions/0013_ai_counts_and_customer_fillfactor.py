"""AI-written messages counted per model; room on the customers' pages for updates

Revision ID: 0013
Revises: 0011
Create Date: 2026-11-30 15:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# See crm_core.models.customer: 30 % of each page is left free for new versions of
# its rows. Existing pages get it as VACUUM reclaims them (VACUUM FULL: at once).
CUSTOMERS_FILLFACTOR = 70


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "ai_message_counts",
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("model", name=op.f("pk_ai_message_counts")),
    )
    # The counts of the messages already stored (crm_core.analytics.ai_counts keeps
    # them from here on).
    op.execute(
        "INSERT INTO ai_message_counts (model, messages) "
        "SELECT COALESCE(ai_model, 'unknown'), COUNT(*) FROM email_messages "
        "WHERE is_ai_generated GROUP BY COALESCE(ai_model, 'unknown')"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE customers SET (fillfactor = {CUSTOMERS_FILLFACTOR})")


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE customers RESET (fillfactor)")
    op.drop_table("ai_message_counts")
