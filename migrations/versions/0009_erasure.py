"""erasure: the record of erasures, the suppression list, the outcome ``erased``

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 14:40:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crm_core.models.types

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OUTCOMES = ("pending", "stored", "skipped", "bounce", "quarantined")
CHECK = "ingest_outcome"


def _outcome_check(outcomes: Sequence[str]) -> str:
    return "outcome IN (" + ", ".join(f"'{o}'" for o in outcomes) + ")"


def _replace_outcome_check(outcomes: Sequence[str]) -> None:
    # SQLite cannot alter a CHECK constraint: batch mode rebuilds received_messages
    # (it has no search triggers, unlike customers and email_messages).
    with op.batch_alter_table("received_messages", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(f"ck_received_messages_{CHECK}"), type_="check")
        batch_op.create_check_constraint(CHECK, _outcome_check(outcomes))


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "erasures",
        sa.Column("id", sa.String(length=25), nullable=False),
        sa.Column("erased_at", crm_core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("address_hashes", sa.JSON(), nullable=False),
        sa.Column("suppressed", sa.Boolean(), nullable=False),
        sa.Column("placeholder_customer_id", sa.String(length=25), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasures")),
    )
    op.create_table(
        "suppressions",
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("erasure_id", sa.String(length=25), nullable=True),
        sa.Column("created_at", crm_core.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["erasure_id"],
            ["erasures.id"],
            name=op.f("fk_suppressions_erasure_id_erasures"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("address_hash", name=op.f("pk_suppressions")),
    )
    with op.batch_alter_table("suppressions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_suppressions_erasure_id"), ["erasure_id"], unique=False
        )
    _replace_outcome_check((*OUTCOMES, "erased"))


def downgrade() -> None:
    """Downgrade schema. Erased ledger rows stay known as skipped (reason says erased)."""
    op.execute(
        "UPDATE received_messages SET outcome = 'skipped', reason = 'erased'"
        " WHERE outcome = 'erased'"
    )
    _replace_outcome_check(OUTCOMES)
    with op.batch_alter_table("suppressions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_suppressions_erasure_id"))
    op.drop_table("suppressions")
    op.drop_table("erasures")
