"""The search index objects, which live in the database but not in the models.

Migration 0006 creates them: on PostgreSQL the generated ``email_messages.search_vector``
column with its GIN index and a trigram index on customers; on SQLite FTS5 tables (with
their shadow tables) and the triggers that keep them in step. The models cannot describe
FTS5 tables, triggers or a column that exists on one database only, so the comparison of
models and migrations (``crm db check``) leaves these out by name.
"""

from __future__ import annotations

SEARCH_COLUMNS = frozenset({("email_messages", "search_vector")})
SEARCH_INDEXES = frozenset({"ix_email_messages_search", "ix_customers_search_trgm"})
# FTS5 creates shadow tables named after its table: message_search_data, _idx, …
SEARCH_TABLE_PREFIXES = ("message_search", "customer_search")

# The text each customer is found by on PostgreSQL: the expression of the trigram index,
# repeated verbatim so that the planner uses the index.
PG_CUSTOMER_TEXT = (
    "lower(customers.name || ' ' || coalesce(customers.email, '') || ' ' "
    "|| coalesce(customers.company_name, '') || ' ' || coalesce(customers.address, '') "
    "|| ' ' || regexp_replace(coalesce(customers.phone, ''), '[^0-9]', '', 'g'))"
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
