"""customers' words are added without waiting for other transactions (PostgreSQL)

``customer_search_words`` (0019) had the word as its primary key, and its triggers
added a customer's words with INSERT … ON CONFLICT DO NOTHING. A word another
transaction had just added, not yet committed, made the INSERT wait for that
transaction; two workers each creating customers whose names were new to the table
waited for each other until PostgreSQL broke the deadlock, after a second. In the
ingestion benchmark (bench/search.py ingest: 2 processes × 4 threads, 20,000 messages)
PostgreSQL's log showed up to 27 deadlocks a minute; each job was retried and nothing
was lost, but five runs with the search objects took 25 to 62 s against 22.5 to 24.8 s
without.

Now a word is added only when no committed row holds it, with a plain INSERT: nothing
to wait for. Two transactions adding the same new word at the same moment both add a
row; the word is then held twice, which the lookup (a set of words) and the removal
(every row of the word) do not mind. The primary key gives way to a plain index.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01 02:10:00

"""

# SQL here is assembled from this module's constants only.
# ruff: noqa: S608

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in 0019 (migrations are snapshots: each writes its SQL out).
SPLIT = "regexp_split_to_table({doc}, '[^[:alpha:]]+') AS word"
LONG_ENOUGH = "length(word) >= 3"
_OLD_WORDS = (
    f"SELECT DISTINCT word FROM old_rows, {SPLIT.format(doc='old_rows.doc')} WHERE {LONG_ENOUGH}"
)
_NEW_WORDS = f"SELECT word FROM new_rows, {SPLIT.format(doc='new_rows.doc')} WHERE {LONG_ENOUGH}"
_DROP_REPLACED = (
    "DELETE FROM customer_search_words w USING"
    f" ({_OLD_WORDS} EXCEPT {_NEW_WORDS}) AS gone"
    " WHERE w.word = gone.word AND NOT EXISTS ("
    "  SELECT 1 FROM customer_search_texts t WHERE t.doc LIKE '%' || gone.word || '%'"
    "  AND gone.word IN (SELECT customer_search_words_of(t.doc)))"
)
_ADD_NEW = (
    "INSERT INTO customer_search_words (word) SELECT held.word FROM"
    f" (SELECT DISTINCT word FROM new_rows, {SPLIT.format(doc='new_rows.doc')}"
    f" WHERE {LONG_ENOUGH}) AS held"
    " WHERE NOT EXISTS (SELECT 1 FROM customer_search_words known WHERE known.word = held.word)"
)
_ADD_NEW_0019 = (
    "INSERT INTO customer_search_words (word)"
    f" SELECT DISTINCT word FROM new_rows, {SPLIT.format(doc='new_rows.doc')}"
    f" WHERE {LONG_ENOUGH} ON CONFLICT DO NOTHING"
)


def _functions(add: str) -> tuple[str, ...]:
    def function(name: str, *statements: str) -> str:
        body = "; ".join(statements)
        return (
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN {body}; RETURN NULL; END $$"
        )

    return (
        function("customer_search_words_insert", add),
        function("customer_search_words_update", add, _DROP_REPLACED),
    )


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in (
        "ALTER TABLE customer_search_words DROP CONSTRAINT customer_search_words_pkey",
        "CREATE INDEX ix_customer_search_words_word ON customer_search_words (word)",
        *_functions(_ADD_NEW),
    ):
        op.execute(statement)


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in (
        *_functions(_ADD_NEW_0019),
        "DROP INDEX ix_customer_search_words_word",
        # A word held twice goes back to once.
        "DELETE FROM customer_search_words a USING customer_search_words b"
        " WHERE a.word = b.word AND a.ctid > b.ctid",
        "ALTER TABLE customer_search_words ADD PRIMARY KEY (word)",
    ):
        op.execute(statement)
