from crm_core.leads.listing import LeadFilter, count_leads, lead_source_message, list_leads
from crm_core.leads.service import (
    create_lead,
    get_lead,
    get_lead_by_idempotency_key,
    set_lead_status,
)

__all__ = [
    "LeadFilter",
    "count_leads",
    "create_lead",
    "get_lead",
    "get_lead_by_idempotency_key",
    "lead_source_message",
    "list_leads",
    "set_lead_status",
]
