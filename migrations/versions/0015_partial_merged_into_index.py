"""Only merged customers in the index of merged_into_id

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 17:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MERGED = sa.text("merged_into_id IS NOT NULL")


def upgrade() -> None:
    """Upgrade schema."""
    op.drop_index("ix_customers_merged_into_id", table_name="customers")
    op.create_index(
        "ix_customers_merged_into_id",
        "customers",
        ["merged_into_id"],
        postgresql_where=MERGED,
        sqlite_where=MERGED,
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_customers_merged_into_id", table_name="customers")
    op.create_index("ix_customers_merged_into_id", "customers", ["merged_into_id"])
