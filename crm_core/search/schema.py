"""The search index objects, which live in the database but not in the models.

Migration 0006 creates them: on PostgreSQL the generated ``email_messages.search_vector``
column with its GIN index (since 0018 with ``message_search_pairs``, the pairs of
words side by side, and its triggers) and a trigram index on customers (since 0014 the
table ``customer_search_texts`` with its index and triggers, since 0019 with
``customer_search_words``); on SQLite FTS5 tables (with
their shadow tables) and the triggers that keep them in step. The models cannot describe
FTS5 tables, triggers or a column that exists on one database only, so the comparison of
models and migrations (``crm db check``) leaves these out by name.
"""

from __future__ import annotations

SEARCH_COLUMNS = frozenset({("email_messages", "search_vector")})
SEARCH_INDEXES = frozenset(
    {
        "ix_email_messages_search",
        "ix_message_search_pairs",
        "ix_customer_search_words_trgm",
        "ix_customer_search_words_word",
        "ix_customers_search_trgm",
        "ix_customer_search_texts_doc",
    }
)
# FTS5 creates shadow tables named after its table: message_search_data, _idx, …
# (customer_search_texts, PostgreSQL's, shares the prefix.)
SEARCH_TABLE_PREFIXES = ("message_search", "customer_search")

# The text each customer is found by on PostgreSQL: a table of its own with the trigram
# index, kept in step by triggers on customers (migration 0014), joined by this.
PG_CUSTOMER_TEXT = "customer_search_texts.doc"
PG_CUSTOMER_TEXT_JOIN = (
    "JOIN customer_search_texts ON customer_search_texts.customer_id = customers.id"
)


def is_search_table(name: str) -> bool:
    return name.startswith(SEARCH_TABLE_PREFIXES)


def is_search_object(name: str | None, type_: str, parent: str | None) -> bool:
    """True for the objects above, as Alembic's ``include_name`` hook names them."""
    if name is None:
        return False
    if type_ == "table":
        return is_search_table(name)
    if type_ == "index":
        return name in SEARCH_INDEXES
    if type_ == "column":
        return (parent, name) in SEARCH_COLUMNS
    return False
