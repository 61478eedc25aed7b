"""Customers: the service, filters, merge, duplicates and the mail policy.

Names are imported on first use (crm_core/lazy_exports.py): ``crm customer get``
needs the service, not the duplicate finder's fuzzy matching."""

from typing import TYPE_CHECKING

from crm_core.lazy_exports import lazy_exports

if TYPE_CHECKING:
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

__getattr__ = lazy_exports(
    __name__,
    {
        "BLOCKED_REASON": "crm_core.customers.mail_policy",
        "CustomerChanges": "crm_core.customers.service",
        "DuplicatePair": "crm_core.customers.duplicates",
        "MergeResult": "crm_core.customers.merge",
        "TagMatch": "crm_core.customers.filters",
        "aliases_of": "crm_core.customers.merge",
        "create_customer": "crm_core.customers.service",
        "customer_names": "crm_core.customers.service",
        "customer_page": "crm_core.customers.service",
        "delete_customer": "crm_core.customers.service",
        "find_duplicates": "crm_core.customers.duplicates",
        "find_or_create_customer": "crm_core.customers.service",
        "get_customer": "crm_core.customers.service",
        "get_customer_by_email": "crm_core.customers.service",
        "get_customer_by_id": "crm_core.customers.service",
        "link_lead_to_customer": "crm_core.customers.service",
        "mail_refusal": "crm_core.customers.mail_policy",
        "mail_refusals": "crm_core.customers.mail_policy",
        "merge_customers": "crm_core.customers.merge",
        "query_customers": "crm_core.customers.service",
        "touch_last_contact": "crm_core.customers.service",
        "unlink_lead": "crm_core.customers.service",
        "update_customer": "crm_core.customers.service",
    },
)
