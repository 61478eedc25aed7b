from crm_core.quotes.listing import count_quotes, list_quotes
from crm_core.quotes.service import (
    accept_quote,
    create_quote,
    get_quote,
    reject_quote,
    send_quote,
)

__all__ = [
    "accept_quote",
    "count_quotes",
    "create_quote",
    "get_quote",
    "list_quotes",
    "reject_quote",
    "send_quote",
]
