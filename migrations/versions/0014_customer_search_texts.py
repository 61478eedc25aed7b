"""customer search text in a table of its own (PostgreSQL)

The trigram index of migration 0006 was an expression index on customers. ``tags`` has
a GIN index, so no UPDATE of a customer is a HOT update, and every changed row also
got new entries in the trigram index (about fifty trigrams a row): a tag added to
100,000 customers spent most of its time there. The text now lives in
``customer_search_texts`` with the trigram index, kept in step by triggers on
customers: after an INSERT (one per statement, from its transition table), after an
UPDATE OF the searched columns that changes one of them, and by the foreign key on
delete. An UPDATE of tags, status or figures leaves it alone.

SQLite is unchanged: its FTS5 triggers of 0006 already fire only on the searched
columns.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 15:45:00

"""

# SQL here is assembled from this module's constants only.
# ruff: noqa: S608

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCHED = ("name", "email", "company_name", "address", "phone")


def _text(row: str) -> str:
    """The text a customer is found by (as in 0006), of the row named ``row``."""
    return (
        f"lower({row}name || ' ' || coalesce({row}email, '') || ' '"
        f" || coalesce({row}company_name, '') || ' ' || coalesce({row}address, '') || ' '"
        f" || regexp_replace(coalesce({row}phone, ''), '[^0-9]', '', 'g'))"
    )


def _changed() -> str:
    return " OR ".join(f"old.{column} IS DISTINCT FROM new.{column}" for column in SEARCHED)


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in (
        "CREATE TABLE customer_search_texts ("
        " customer_id VARCHAR(25) PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,"
        " doc TEXT NOT NULL)",
        f"INSERT INTO customer_search_texts (customer_id, doc) SELECT id, {_text('')}"
        " FROM customers",
        "CREATE INDEX ix_customer_search_texts_doc ON customer_search_texts"
        " USING gin (doc gin_trgm_ops)",
        "DROP INDEX IF EXISTS ix_customers_search_trgm",
        f"""CREATE FUNCTION customer_search_text_insert() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN
            INSERT INTO customer_search_texts (customer_id, doc)
            SELECT id, {_text("")} FROM new_rows;
            RETURN NULL;
        END $$""",
        "CREATE TRIGGER customer_search_insert AFTER INSERT ON customers"
        " REFERENCING NEW TABLE AS new_rows"
        " FOR EACH STATEMENT EXECUTE FUNCTION customer_search_text_insert()",
        f"""CREATE FUNCTION customer_search_text_update() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN
            UPDATE customer_search_texts SET doc = {_text("new.")}
            WHERE customer_id = new.id;
            RETURN NULL;
        END $$""",
        f"CREATE TRIGGER customer_search_update AFTER UPDATE OF {', '.join(SEARCHED)}"
        f" ON customers FOR EACH ROW WHEN ({_changed()})"
        " EXECUTE FUNCTION customer_search_text_update()",
    ):
        op.execute(statement)


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in (
        "DROP TRIGGER customer_search_update ON customers",
        "DROP TRIGGER customer_search_insert ON customers",
        "DROP FUNCTION customer_search_text_update()",
        "DROP FUNCTION customer_search_text_insert()",
        "DROP TABLE customer_search_texts",
        f"CREATE INDEX ix_customers_search_trgm ON customers USING gin (({_text('')})"
        " gin_trgm_ops)",
    ):
        op.execute(statement)
