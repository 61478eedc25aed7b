"""the pairs of words side by side in each message, indexed, for phrase searches
(PostgreSQL)

A GIN index on a tsvector knows which messages hold a word but not where, so a phrase
("flytte rengøring") made PostgreSQL read and recheck every message holding both words:
at 2,000,000 messages 200 to 600 ms for a phrase of two common words (bench/RESULTS.md).

``search_pairs`` holds the pairs of lexemes that stand side by side in the message's
search vector ("flyt rengøring"), as lexemes without positions, with a GIN index of its
own. A phrase search looks its pairs up there and rechecks only the messages that hold
them (``crm_core.search.messages``). The column is generated like ``search_vector``
(migration 0006) from the same text, so it follows every change of a message, and its
erasure, in the same statement.

It is a stored column, not an index on an expression of ``search_vector``: PostgreSQL
rechecks a bitmap's rows against every condition, and computing the pairs again for
each of a few thousand candidates cost more than the phrase search saved.

Lexemes come from PostgreSQL's parser and never hold a space, so a pair cannot be taken
for a word. A pair longer than a lexeme may be (2,047 bytes) is left out, and so is never
asked for. Adding the column computes it for every stored message (about 80 µs each);
building its index took about 7 minutes for 2,000,000 messages here.

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
WORD_PAIRS_FUNCTION = """
CREATE FUNCTION search_word_pairs(vector tsvector) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    WITH words AS MATERIALIZED (
        SELECT lexeme, unnest(positions) AS position FROM unnest(vector)
    )
    SELECT coalesce(array_to_tsvector(array_agg(first.lexeme || ' ' || second.lexeme)),
                    ''::tsvector)
    FROM words AS first
    JOIN words AS second ON second.position = first.position + 1
    WHERE octet_length(first.lexeme) + octet_length(second.lexeme) < 2000
$$
"""

# The expression of search_vector, as migration 0006 defines it.
BODY_CHARS = 100_000
MESSAGE_VECTOR = f"""
    setweight(to_tsvector('danish'::regconfig, coalesce(subject, '')), 'A')
    || setweight(to_tsvector('danish'::regconfig, left(body, {BODY_CHARS})), 'B')
    || setweight(to_tsvector('simple'::regconfig,
        coalesce(subject, '') || ' ' || from_address || ' ' || to_address), 'C')
"""


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite's FTS5 index holds positions: its phrases need no pairs
    op.execute(WORD_PAIRS_FUNCTION)
    op.execute(
        "ALTER TABLE email_messages ADD COLUMN search_pairs tsvector"
        f" GENERATED ALWAYS AS (search_word_pairs({MESSAGE_VECTOR})) STORED"
    )
    op.execute(
        "CREATE INDEX ix_email_messages_search_pairs ON email_messages USING gin (search_pairs)"
    )


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_email_messages_search_pairs")
    op.execute("ALTER TABLE email_messages DROP COLUMN IF EXISTS search_pairs")
    op.execute("DROP FUNCTION IF EXISTS search_word_pairs(tsvector)")
