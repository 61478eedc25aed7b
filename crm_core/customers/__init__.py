from crm_core.customers.duplicates import DuplicatePair, find_duplicates
from crm_core.customers.filters import TagMatch
from crm_core.customers.mail_policy import BLOCKED_REASON, mail_refusal, mail_refusals
from crm_core.customers.merge import MergeResult, aliases_of, merge_customers
from crm_core.customers.service import (
    CustomerChanges,
    create_customer,
    customer_names,
    customer_page,
    delete_customer,
    find_or_create_customer,
    get_customer,
    get_customer_by_email,
    get_customer_by_id,
    link_lead_to_customer,
    query_customers,
    touch_last_contact,
    unlink_lead,
    update_customer,
)

__all__ = [
    "BLOCKED_REASON",
    "CustomerChanges",
    "DuplicatePair",
    "MergeResult",
    "TagMatch",
    "aliases_of",
    "create_customer",
    "customer_names",
    "customer_page",
    "delete_customer",
    "find_duplicates",
    "find_or_create_customer",
    "get_customer",
    "get_customer_by_email",
    "get_customer_by_id",
    "link_lead_to_customer",
    "mail_refusal",
    "mail_refusals",
    "merge_customers",
    "query_customers",
    "touch_last_contact",
    "unlink_lead",
    "update_customer",
]
