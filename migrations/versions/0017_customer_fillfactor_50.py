"""Half of each customers page left free for new versions of its rows (PostgreSQL)

Migration 0013 left 30 %. A change of every customer on a page (a bulk tag or status
change, figures recomputed) writes a new version of each row before any old one can be
pruned, and a row's new version is as large as the old: with 30 % free, about 40 % of
the rows fit on their page and the rest became non-HOT updates with an entry in each
of the table's five B-trees. Adding a tag to 100,000 freshly imported customers took
2.4 to 2.6 s; with half of each page free it takes 1.0 s (bench/RESULTS.md). The heap
is about 40 % larger, which a table of customers can afford.

Pages written before this revision keep their fill until rewritten (VACUUM FULL, or
pg_repack, in a maintenance window); new and moved rows get the new room at once.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 20:20:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CUSTOMERS_FILLFACTOR = 50
EARLIER_FILLFACTOR = 70  # migration 0013


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE customers SET (fillfactor = {CUSTOMERS_FILLFACTOR})")


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE customers SET (fillfactor = {EARLIER_FILLFACTOR})")
