"""the words customers are found by, for typo-tolerant customer search (PostgreSQL)

The customer search found a misspelt word by pg_trgm's word similarity to the whole
customer text (at least 0.6). A letter left out of a short name falls below that:
"Nielen" scores 0.57 against "Nielsen", so "Tina Nielen" found nobody, while SQLite
found her. And at a million customers each misspelt name cost 50 to 250 ms, most of it
computing that similarity for every customer sharing a trigram with the word.

``customer_search_words`` holds each word (three letters or more) of every customer's
search text once, with a trigram index. The search now looks a typed word up there, keeps the
words within one or two edits of it (``crm_core.search.spelling``), and finds the
customers whose text holds one of them, through the trigram index of 0014. The table
is small: a business has far fewer distinct names, streets and towns than customers.

Triggers on ``customer_search_texts`` keep it in step, once per statement (an import's
COPY is one statement): a word is added when a customer gains it and removed when the
last customer holding it loses it, so an erased customer's name does not stay behind.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 23:00:00

"""

# SQL here is assembled from this module's constants only.
# ruff: noqa: S608

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The words of a search text: runs of three letters or more (æ, ø and å included), as
# crm_core.search.spelling.letter_words splits them. Shorter words are only ever
# matched as written, and a LIKE of three letters can use the trigram index.
SPLIT = "regexp_split_to_table({doc}, '[^[:alpha:]]+') AS word"
LONG_ENOUGH = "length(word) >= 3"
WORDS_FUNCTION = f"""
CREATE FUNCTION customer_search_words_of(doc text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT DISTINCT word FROM {SPLIT.format(doc="doc")} WHERE {LONG_ENOUGH}
$$
"""

# Written out rather than through customer_search_words_of: calling the SQL function
# for each of an import's rows took twice as long (1.15 s against 0.58 s per 100,000).
_ADD_NEW = (
    "INSERT INTO customer_search_words (word)"
    f" SELECT DISTINCT word FROM new_rows, {SPLIT.format(doc='new_rows.doc')}"
    f" WHERE {LONG_ENOUGH} ON CONFLICT DO NOTHING"
)
# A word whose last holder lost it. The LIKE (letters only: nothing to escape) finds the
# candidates through the trigram index. A customer given the word by a transaction
# running at the same moment may lose it from the table: that customer is then still
# found by the word as written, only no longer by a misspelling of it.
_DROP = (
    "DELETE FROM customer_search_words w USING ({gone}) AS gone"
    " WHERE w.word = gone.word AND NOT EXISTS ("
    "  SELECT 1 FROM customer_search_texts t WHERE t.doc LIKE '%' || gone.word || '%'"
    "  AND gone.word IN (SELECT customer_search_words_of(t.doc)))"
)
_OLD_WORDS = (
    f"SELECT DISTINCT word FROM old_rows, {SPLIT.format(doc='old_rows.doc')} WHERE {LONG_ENOUGH}"
)
_NEW_WORDS = f"SELECT word FROM new_rows, {SPLIT.format(doc='new_rows.doc')} WHERE {LONG_ENOUGH}"
_DROP_DELETED = _DROP.format(gone=_OLD_WORDS)
# After an UPDATE only the words no new text holds are looked up: a changed phone or
# address number leaves the words as they were, and each lookup reads the trigram
# index (a common word such as "gmail" names many customers).
_DROP_REPLACED = _DROP.format(gone=f"{_OLD_WORDS} EXCEPT {_NEW_WORDS}")


def _function(name: str, *statements: str) -> str:
    body = "; ".join(statements)
    return (
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        f" {body}; RETURN NULL; END $$"
    )


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite checks each candidate's words in Python
    for statement in (
        WORDS_FUNCTION,
        "CREATE TABLE customer_search_words (word TEXT PRIMARY KEY)",
        "INSERT INTO customer_search_words (word) SELECT DISTINCT word"
        f" FROM customer_search_texts, {SPLIT.format(doc='customer_search_texts.doc')}"
        f" WHERE {LONG_ENOUGH}",
        "CREATE INDEX ix_customer_search_words_trgm ON customer_search_words"
        " USING gin (word gin_trgm_ops)",
        _function("customer_search_words_insert", _ADD_NEW),
        _function("customer_search_words_update", _ADD_NEW, _DROP_REPLACED),
        _function("customer_search_words_delete", _DROP_DELETED),
        "CREATE TRIGGER customer_search_words_insert AFTER INSERT ON customer_search_texts"
        " REFERENCING NEW TABLE AS new_rows"
        " FOR EACH STATEMENT EXECUTE FUNCTION customer_search_words_insert()",
        "CREATE TRIGGER customer_search_words_update AFTER UPDATE ON customer_search_texts"
        " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
        " FOR EACH STATEMENT EXECUTE FUNCTION customer_search_words_update()",
        "CREATE TRIGGER customer_search_words_delete AFTER DELETE ON customer_search_texts"
        " REFERENCING OLD TABLE AS old_rows"
        " FOR EACH STATEMENT EXECUTE FUNCTION customer_search_words_delete()",
        # TRUNCATE customers (CASCADE) fires no DELETE trigger.
        _function("customer_search_words_truncate", "TRUNCATE customer_search_words"),
        "CREATE TRIGGER customer_search_words_truncate AFTER TRUNCATE ON customer_search_texts"
        " FOR EACH STATEMENT EXECUTE FUNCTION customer_search_words_truncate()",
    ):
        op.execute(statement)


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in (
        "DROP TRIGGER customer_search_words_truncate ON customer_search_texts",
        "DROP TRIGGER customer_search_words_delete ON customer_search_texts",
        "DROP TRIGGER customer_search_words_update ON customer_search_texts",
        "DROP TRIGGER customer_search_words_insert ON customer_search_texts",
        "DROP FUNCTION customer_search_words_truncate()",
        "DROP FUNCTION customer_search_words_delete()",
        "DROP FUNCTION customer_search_words_update()",
        "DROP FUNCTION customer_search_words_insert()",
        "DROP TABLE customer_search_words",
        "DROP FUNCTION customer_search_words_of(text)",
    ):
        op.execute(statement)
