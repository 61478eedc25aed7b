from crm_core.quotes.listing import count_quotes, list_quotes
from crm_core.quotes.service import (
    accept_quote,
    create_quote,
    get_quote,
    quote_total,
    reject_quote,
    send_quote,
)

__all__ = [
    "accept_quote",
    "count_quotes",
    "create_quote",
    "get_quote",
    "list_quotes",
    "quote_total",
    "reject_quote",
    "send_quote",
]
