"""customers found by tag through customer_tags, not a GIN index on customers.tags

While ``customers.tags`` had a GIN index, no UPDATE of a customer's tags could be a HOT
update: adding a tag to 100,000 customers wrote a new entry in each of the table's
indexes for every one of them (3.3 to 4.1 s here). The tags stay on the customer (what
it carries, in its order); the pairs (tag, customer) now live in ``customer_tags``,
whose primary key finds a tag's customers, and the GIN index is gone.

Triggers keep the table in step with every writer, on both databases:
- after an INSERT of customers (PostgreSQL: once per statement, from its transition
  table, so a COPY of 100,000 rows is one INSERT … SELECT);
- after an UPDATE that changes tags (one row at a time). On PostgreSQL it steps aside
  when the transaction's setting ``crm.customer_tags_written`` is ``on``: a bulk tag
  change sets it around its one UPDATE and writes the pairs set-based itself
  (crm_core.customers.bulk_changes);
- after a DELETE (the primary key leads with the tag, so the old row's tags find the
  pairs; no foreign key, whose cascade would need a second index).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 20:15:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Read by the PostgreSQL update trigger; see crm_core.customers.bulk_changes.
WRITTEN_SETTING = "crm.customer_tags_written"

POSTGRESQL = (
    """CREATE FUNCTION customer_tags_insert() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN
        INSERT INTO customer_tags (tag, customer_id)
        SELECT DISTINCT tag, id FROM new_rows, unnest(tags) AS tag;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER customer_tags_insert AFTER INSERT ON customers"
    " REFERENCING NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION customer_tags_insert()",
    """CREATE FUNCTION customer_tags_update() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN
        DELETE FROM customer_tags WHERE tag = ANY (old.tags) AND customer_id = old.id
            AND NOT tag = ANY (coalesce(new.tags, '{}'));
        INSERT INTO customer_tags (tag, customer_id)
        SELECT DISTINCT tag, new.id FROM unnest(new.tags) AS tag
        ON CONFLICT DO NOTHING;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER customer_tags_update AFTER UPDATE OF tags ON customers FOR EACH ROW"
    " WHEN (old.tags IS DISTINCT FROM new.tags"
    f" AND current_setting('{WRITTEN_SETTING}', true) IS DISTINCT FROM 'on')"
    " EXECUTE FUNCTION customer_tags_update()",
    """CREATE FUNCTION customer_tags_delete() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN
        DELETE FROM customer_tags WHERE tag = ANY (old.tags) AND customer_id = old.id;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER customer_tags_delete AFTER DELETE ON customers FOR EACH ROW"
    " EXECUTE FUNCTION customer_tags_delete()",
    "INSERT INTO customer_tags (tag, customer_id)"
    " SELECT DISTINCT tag, id FROM customers, unnest(tags) AS tag",
)

SQLITE = (
    """CREATE TRIGGER customer_tags_insert AFTER INSERT ON customers BEGIN
        INSERT OR IGNORE INTO customer_tags (tag, customer_id)
        SELECT value, new.id FROM json_each(new.tags);
    END""",
    """CREATE TRIGGER customer_tags_update AFTER UPDATE OF tags ON customers
    WHEN old.tags IS NOT new.tags BEGIN
        DELETE FROM customer_tags WHERE customer_id = old.id
            AND tag IN (SELECT value FROM json_each(old.tags));
        INSERT OR IGNORE INTO customer_tags (tag, customer_id)
        SELECT value, new.id FROM json_each(new.tags);
    END""",
    """CREATE TRIGGER customer_tags_delete AFTER DELETE ON customers BEGIN
        DELETE FROM customer_tags WHERE customer_id = old.id
            AND tag IN (SELECT value FROM json_each(old.tags));
    END""",
    "INSERT OR IGNORE INTO customer_tags (tag, customer_id)"
    " SELECT value, customers.id FROM customers, json_each(customers.tags)",
)


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "customer_tags",
        sa.Column("tag", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.String(length=25), nullable=False),
        sa.PrimaryKeyConstraint("tag", "customer_id", name=op.f("pk_customer_tags")),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL if postgresql else SQLITE:
        op.execute(statement)
    # On SQLite it was a B-tree of the whole JSON text, which no filter used.
    op.drop_index("ix_customers_tags", table_name="customers")
    if postgresql:
        op.execute("ANALYZE customer_tags")


def downgrade() -> None:
    """Downgrade schema."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    for event in ("insert", "update", "delete"):
        op.execute(
            f"DROP TRIGGER customer_tags_{event} ON customers"
            if postgresql
            else f"DROP TRIGGER customer_tags_{event}"
        )
        if postgresql:
            op.execute(f"DROP FUNCTION customer_tags_{event}()")
    op.create_index("ix_customers_tags", "customers", ["tags"], postgresql_using="gin")
    op.drop_table("customer_tags")
