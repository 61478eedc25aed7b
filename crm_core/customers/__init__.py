from crm_core.customers.service import (
    CustomerChanges,
    TagMatch,
    create_customer,
    delete_customer,
    find_or_create_customer,
    get_customer,
    get_customer_by_email,
    get_customer_by_id,
    link_lead_to_customer,
    query_customers,
    touch_last_contact,
    update_customer,
)

__all__ = [
    "CustomerChanges",
    "TagMatch",
    "create_customer",
    "delete_customer",
    "find_or_create_customer",
    "get_customer",
    "get_customer_by_email",
    "get_customer_by_id",
    "link_lead_to_customer",
    "query_customers",
    "touch_last_contact",
    "update_customer",
]
