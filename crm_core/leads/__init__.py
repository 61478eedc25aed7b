from crm_core.leads.by_score import list_leads_by_score
from crm_core.leads.listing import (
    LeadFilter,
    count_leads,
    lead_source_message,
    lead_source_ref,
    list_leads,
)
from crm_core.leads.service import (
    create_lead,
    customer_leads,
    customer_leads_page,
    get_lead,
    get_lead_by_idempotency_key,
    linked_leads,
    list_unlinked_leads,
    set_lead_status,
)

__all__ = [
    "LeadFilter",
    "count_leads",
    "create_lead",
    "customer_leads",
    "customer_leads_page",
    "get_lead",
    "get_lead_by_idempotency_key",
    "lead_source_message",
    "lead_source_ref",
    "linked_leads",
    "list_leads",
    "list_leads_by_score",
    "list_unlinked_leads",
    "set_lead_status",
]
