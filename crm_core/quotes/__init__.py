from crm_core.quotes.service import (
    accept_quote,
    create_quote,
    get_quote,
    reject_quote,
    send_quote,
)

__all__ = ["accept_quote", "create_quote", "get_quote", "reject_quote", "send_quote"]
