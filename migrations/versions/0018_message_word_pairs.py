"""the pairs of words side by side in each message, indexed, for phrase searches
(PostgreSQL)

A GIN index on a tsvector knows which messages hold a word but not where, so a phrase
("flytte rengøring") made PostgreSQL read and recheck every message holding both words:
at 2,000,000 messages 200 to 600 ms for a phrase of two common words (bench/RESULTS.md).

``message_search_pairs`` holds, per message, the pairs of lexemes that stand side by
side in its ``search_vector`` ("flyt rengøring"), as lexemes without positions, with a
GIN index. A phrase search looks its pairs up there and checks only the messages that
hold them for the phrase itself (``crm_core.search.messages``).

The pairs live in a table of their own, not in a column of ``email_messages``: stored
there they made its heap 40 % larger, and every search that walks the newest messages
(a common word) slower by as much. They are not an index on an expression either:
PostgreSQL rechecks a bitmap's rows against every condition, and computing the pairs
again for each of a few thousand candidates cost more than the phrase search saved.

Triggers keep the table in step, in the statement that stores or changes a message:
after an INSERT once per statement (an import's COPY is one), after an UPDATE that
changes the search vector, and the foreign key deletes a message's row with it (an
erasure included).

Lexemes come from PostgreSQL's parser and never hold a space, so a pair cannot be taken
for a word. A pair longer than a lexeme may be (2,047 bytes) is left out, and so is never
asked for.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 22:45:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Both sides of one position's lexemes are joined: a word may have several lexemes at one
# position (words past position 16,383 all share it), and a phrase may match any of them.
# PL/pgSQL, not SQL: it keeps its query's plan for the connection, where an SQL function
# is planned again in every statement that calls it (once per stored message, from the
# trigger). That was about 90 µs of the 220 µs the pairs added to storing a message.
WORD_PAIRS_FUNCTION = """
CREATE FUNCTION search_word_pairs(vector tsvector) RETURNS tsvector
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$ BEGIN
    RETURN (
        WITH words AS MATERIALIZED (
            SELECT lexeme, unnest(positions) AS position FROM unnest(vector)
        )
        SELECT coalesce(array_to_tsvector(array_agg(first.lexeme || ' ' || second.lexeme)),
                        ''::tsvector)
        FROM words AS first
        JOIN words AS second ON second.position = first.position + 1
        WHERE octet_length(first.lexeme) + octet_length(second.lexeme) < 2000
    );
END $$
"""

STATEMENTS = (
    WORD_PAIRS_FUNCTION,
    "CREATE TABLE message_search_pairs ("
    " message_id VARCHAR(25) PRIMARY KEY REFERENCES email_messages (id) ON DELETE CASCADE,"
    " pairs tsvector NOT NULL)",
    "INSERT INTO message_search_pairs (message_id, pairs)"
    " SELECT id, search_word_pairs(search_vector) FROM email_messages",
    "CREATE INDEX ix_message_search_pairs ON message_search_pairs USING gin (pairs)",
    """CREATE FUNCTION message_search_pairs_insert() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN
        INSERT INTO message_search_pairs (message_id, pairs)
        SELECT id, search_word_pairs(search_vector) FROM new_rows;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER message_search_pairs_insert AFTER INSERT ON email_messages"
    " REFERENCING NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION message_search_pairs_insert()",
    """CREATE FUNCTION message_search_pairs_update() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN
        UPDATE message_search_pairs SET pairs = search_word_pairs(new.search_vector)
        WHERE message_id = new.id;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER message_search_pairs_update"
    " AFTER UPDATE OF subject, body, from_address, to_address ON email_messages"
    " FOR EACH ROW WHEN (old.search_vector IS DISTINCT FROM new.search_vector)"
    " EXECUTE FUNCTION message_search_pairs_update()",
)


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite's FTS5 index holds positions: its phrases need no pairs
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in (
        "DROP TRIGGER message_search_pairs_update ON email_messages",
        "DROP TRIGGER message_search_pairs_insert ON email_messages",
        "DROP FUNCTION message_search_pairs_update()",
        "DROP FUNCTION message_search_pairs_insert()",
        "DROP TABLE message_search_pairs",
        "DROP FUNCTION search_word_pairs(tsvector)",
    ):
        op.execute(statement)
