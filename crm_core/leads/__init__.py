from crm_core.leads.service import (
    create_lead,
    customer_leads,
    get_lead,
    get_lead_by_idempotency_key,
    linked_leads,
    list_unlinked_leads,
    set_lead_status,
)

__all__ = [
    "create_lead",
    "customer_leads",
    "get_lead",
    "get_lead_by_idempotency_key",
    "linked_leads",
    "list_unlinked_leads",
    "set_lead_status",
]
