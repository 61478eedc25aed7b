"""search indexes for customers and messages

PostgreSQL: a stored, generated ``search_vector`` on email_messages (Danish stemming for
subject and body, the ``simple`` configuration for subject and addresses) with a GIN
index, and a pg_trgm GIN index on one lower-case text per customer. SQLite: FTS5 tables
kept in step by triggers. Either way the database itself keeps the index in step with
every statement that stores, changes or deletes a row, in the same transaction, and the
upgrade indexes the rows that exist already.

These objects are not in the models; ``migrations/env.py`` leaves them out of the
comparison (``crm_core.search.schema``). SQLite drops a table's triggers with the table:
a later migration that rebuilds customers or email_messages in batch mode must create
the triggers below again.

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-30 11:40:00

"""

# SQL here is assembled from this module's constants; what a user typed is always a
# bound parameter.
# ruff: noqa: S608

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Bodies longer than this are indexed by their beginning: a tsvector holds at most 1 MB.
BODY_CHARS = 100_000

PG_MESSAGE_VECTOR = f"""
    setweight(to_tsvector('danish'::regconfig, coalesce(subject, '')), 'A')
    || setweight(to_tsvector('danish'::regconfig, left(body, {BODY_CHARS})), 'B')
    || setweight(to_tsvector('simple'::regconfig,
        coalesce(subject, '') || ' ' || from_address || ' ' || to_address), 'C')
"""

PG_CUSTOMER_TEXT = """
    lower(name || ' ' || coalesce(email, '') || ' ' || coalesce(company_name, '') || ' '
        || coalesce(address, '') || ' ' || regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g'))
"""


def _sqlite_digits(column: str) -> str:
    expression = f"coalesce({column}, '')"
    for char in (" ", "-", "+", "(", ")", ".", "/"):
        expression = f"replace({expression}, '{char}', '')"
    return expression


def _sqlite_customer_text(row: str) -> str:
    return (
        f"{row}.name || ' ' || coalesce({row}.email, '') || ' ' || coalesce({row}.company_name, '')"
        f" || ' ' || coalesce({row}.address, '') || ' ' || {_sqlite_digits(row + '.phone')}"
    )


def _sqlite_message_values(row: str) -> str:
    return (
        f"coalesce({row}.subject, ''), substr({row}.body, 1, {BODY_CHARS}),"
        f" {row}.from_address || ' ' || {row}.to_address"
    )


def _sqlite_statements() -> list[str]:
    message_slot = "(SELECT rowid FROM message_search_rows WHERE message_id = {row}.id)"
    customer_slot = "(SELECT rowid FROM customer_search_rows WHERE customer_id = {row}.id)"
    return [
        # FTS5 rows are addressed by integer rowids; these tables give each message and
        # customer one that VACUUM cannot renumber (an INTEGER PRIMARY KEY).
        "CREATE TABLE message_search_rows"
        " (rowid INTEGER PRIMARY KEY, message_id VARCHAR(25) NOT NULL UNIQUE)",
        "CREATE TABLE customer_search_rows"
        " (rowid INTEGER PRIMARY KEY, customer_id VARCHAR(25) NOT NULL UNIQUE)",
        # Words as they are written, æ, ø and å kept (no folding of diacritics).
        "CREATE VIRTUAL TABLE message_search USING fts5"
        "(subject, body, people, tokenize = 'unicode61 remove_diacritics 0')",
        "CREATE VIRTUAL TABLE customer_search USING fts5(doc, tokenize = 'trigram')",
        f"""CREATE TRIGGER message_search_insert AFTER INSERT ON email_messages BEGIN
            INSERT INTO message_search_rows (message_id) VALUES (new.id);
            INSERT INTO message_search (rowid, subject, body, people)
            VALUES ({message_slot.format(row="new")}, {_sqlite_message_values("new")});
        END""",
        f"""CREATE TRIGGER message_search_update
        AFTER UPDATE OF subject, body, from_address, to_address ON email_messages BEGIN
            DELETE FROM message_search WHERE rowid = {message_slot.format(row="old")};
            INSERT INTO message_search (rowid, subject, body, people)
            VALUES ({message_slot.format(row="new")}, {_sqlite_message_values("new")});
        END""",
        f"""CREATE TRIGGER message_search_delete AFTER DELETE ON email_messages BEGIN
            DELETE FROM message_search WHERE rowid = {message_slot.format(row="old")};
            DELETE FROM message_search_rows WHERE message_id = old.id;
        END""",
        f"""CREATE TRIGGER customer_search_insert AFTER INSERT ON customers BEGIN
            INSERT INTO customer_search_rows (customer_id) VALUES (new.id);
            INSERT INTO customer_search (rowid, doc)
            VALUES ({customer_slot.format(row="new")}, {_sqlite_customer_text("new")});
        END""",
        f"""CREATE TRIGGER customer_search_update
        AFTER UPDATE OF name, email, phone, company_name, address ON customers BEGIN
            DELETE FROM customer_search WHERE rowid = {customer_slot.format(row="old")};
            INSERT INTO customer_search (rowid, doc)
            VALUES ({customer_slot.format(row="new")}, {_sqlite_customer_text("new")});
        END""",
        f"""CREATE TRIGGER customer_search_delete AFTER DELETE ON customers BEGIN
            DELETE FROM customer_search WHERE rowid = {customer_slot.format(row="old")};
            DELETE FROM customer_search_rows WHERE customer_id = old.id;
        END""",
        # The rows stored before this revision.
        "INSERT INTO message_search_rows (message_id) SELECT id FROM email_messages",
        "INSERT INTO message_search (rowid, subject, body, people)"
        f" SELECT r.rowid, {_sqlite_message_values('m')} FROM email_messages m"
        " JOIN message_search_rows r ON r.message_id = m.id",
        "INSERT INTO customer_search_rows (customer_id) SELECT id FROM customers",
        "INSERT INTO customer_search (rowid, doc)"
        f" SELECT r.rowid, {_sqlite_customer_text('c')} FROM customers c"
        " JOIN customer_search_rows r ON r.customer_id = c.id",
    ]


def _pg_statements() -> list[str]:
    return [
        # pg_trgm lives in the public schema, where every schema's search path finds it
        # (crm_core.db adds public behind a configured schema). The lock keeps two
        # upgrades at the same time from both trying to create it.
        "SELECT pg_advisory_xact_lock(hashtext('crm: create extension pg_trgm'))",
        "CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public",
        # Generated: computed by the statement that inserts or changes the row, so every
        # way of storing a message keeps it right, and the upgrade fills existing rows.
        "ALTER TABLE email_messages ADD COLUMN search_vector tsvector"
        f" GENERATED ALWAYS AS ({PG_MESSAGE_VECTOR}) STORED",
        "CREATE INDEX ix_email_messages_search ON email_messages USING gin (search_vector)",
        "CREATE INDEX ix_customers_search_trgm ON customers"
        f" USING gin (({PG_CUSTOMER_TEXT}) gin_trgm_ops)",
    ]


def upgrade() -> None:
    """Upgrade schema."""
    # The search ranks the newest matches of a word found in much of the mail.
    op.create_index(op.f("ix_email_messages_sent_at"), "email_messages", ["sent_at"])
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _sqlite_statements() if sqlite else _pg_statements():
        op.execute(statement)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_email_messages_sent_at"), table_name="email_messages")
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("message_search", "customer_search"):
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {trigger}_{event}")
        for table in ("message_search", "customer_search"):
            op.execute(f"DROP TABLE IF EXISTS {table}")
            op.execute(f"DROP TABLE IF EXISTS {table}_rows")
        return
    op.execute("DROP INDEX IF EXISTS ix_customers_search_trgm")
    op.execute("DROP INDEX IF EXISTS ix_email_messages_search")
    op.execute("ALTER TABLE email_messages DROP COLUMN IF EXISTS search_vector")
    # pg_trgm stays: other schemas in the database may use it.
