from crm_core.leads.service import (
    create_lead,
    get_lead,
    get_lead_by_idempotency_key,
    list_unlinked_leads,
    set_lead_status,
)

__all__ = [
    "create_lead",
    "get_lead",
    "get_lead_by_idempotency_key",
    "list_unlinked_leads",
    "set_lead_status",
]
