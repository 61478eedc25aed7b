"""the search tables follow deleted customers and messages by trigger, not foreign key
(PostgreSQL)

``customer_search_texts`` (0014) and ``message_search_pairs`` (0018) referred to their
customer and message by a foreign key with ON DELETE CASCADE. Their rows are only ever
written by the triggers that store a customer or a message, in the same statement, so
the key never caught anything; but PostgreSQL checked it for every row written, a
lookup of the parent row locked FOR KEY SHARE: about 4 µs per customer of an import
(0.4 s of 100,000) and about 30 µs per message stored one at a time by ingestion, by
EXPLAIN ANALYZE trials (indicative).

A statement-level trigger after DELETE now removes the rows of the deleted customers or
messages (from the statement's transition table: once per statement, cascades and
erasure included), and one after TRUNCATE empties the table (a TRUNCATE fires no
DELETE trigger). An UPDATE never changes a customer's or a message's id.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 01:40:00

"""

# SQL here is assembled from this module's constants only.
# ruff: noqa: S608

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (search table, its key column, parent table, foreign key of 0014 / 0018)
FOLLOWERS = (
    ("customer_search_texts", "customer_id", "customers", "customer_search_texts_customer_id_fkey"),
    (
        "message_search_pairs",
        "message_id",
        "email_messages",
        "message_search_pairs_message_id_fkey",
    ),
)


def _statements(table: str, key: str, parent: str, constraint: str) -> tuple[str, ...]:
    return (
        f"ALTER TABLE {table} DROP CONSTRAINT {constraint}",
        f"""CREATE FUNCTION {table}_delete() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN
            DELETE FROM {table} USING old_rows WHERE {table}.{key} = old_rows.id;
            RETURN NULL;
        END $$""",
        f"CREATE TRIGGER {table}_delete AFTER DELETE ON {parent}"
        " REFERENCING OLD TABLE AS old_rows"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {table}_delete()",
        f"""CREATE FUNCTION {table}_truncate() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN
            TRUNCATE {table};
            RETURN NULL;
        END $$""",
        f"CREATE TRIGGER {table}_truncate AFTER TRUNCATE ON {parent}"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {table}_truncate()",
    )


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite's FTS5 tables follow by the triggers of 0006
    for follower in FOLLOWERS:
        for statement in _statements(*follower):
            op.execute(statement)


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, key, parent, constraint in FOLLOWERS:
        for statement in (
            f"DROP TRIGGER {table}_truncate ON {parent}",
            f"DROP TRIGGER {table}_delete ON {parent}",
            f"DROP FUNCTION {table}_truncate()",
            f"DROP FUNCTION {table}_delete()",
            f"DELETE FROM {table} WHERE {key} NOT IN (SELECT id FROM {parent})",
            f"ALTER TABLE {table} ADD CONSTRAINT {constraint} FOREIGN KEY ({key})"
            f" REFERENCES {parent} (id) ON DELETE CASCADE",
        ):
            op.execute(statement)
