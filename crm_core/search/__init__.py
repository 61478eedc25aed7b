"""Search: customers from any fragment, messages by their text (see README, Search)."""

from crm_core.search.customers import search_customers
from crm_core.search.messages import search_messages
from crm_core.search.results import CustomerHit, MessageHit, SearchResults, Snippet

__all__ = [
    "CustomerHit",
    "MessageHit",
    "SearchResults",
    "Snippet",
    "search_customers",
    "search_messages",
]
