"""Every service function in one place, named after the specification's API.

``from crm_core import services`` then ``services.find_or_create_customer(session, …)``.
Each takes a session and never commits.
"""

from crm_core.analytics import ai_emails_by_model, response_ratios, top_customers_by_revenue
from crm_core.bookings import cancel_booking, complete_booking, create_booking
from crm_core.conversations import (
    close_conversation,
    create_conversation,
    find_or_create_conversation,
    get_conversation_by_gmail_thread_id,
    get_customer_conversations,
)
from crm_core.customers import (
    create_customer,
    delete_customer,
    find_or_create_customer,
    get_customer_by_email,
    get_customer_by_id,
    link_lead_to_customer,
    query_customers,
    update_customer,
)
from crm_core.leads import create_lead, set_lead_status
from crm_core.messages import (
    create_email_message,
    get_conversation_messages,
    get_email_message_by_gmail_id,
)
from crm_core.quotes import accept_quote, create_quote, reject_quote, send_quote
from crm_core.replies import approve as approve_reply
from crm_core.replies import cancel as cancel_reply
from crm_core.replies import list_replies, reply
from crm_core.stats import recompute_all_stats, update_customer_stats

__all__ = [
    "accept_quote",
    "ai_emails_by_model",
    "approve_reply",
    "cancel_booking",
    "cancel_reply",
    "close_conversation",
    "complete_booking",
    "create_booking",
    "create_conversation",
    "create_customer",
    "create_email_message",
    "create_lead",
    "create_quote",
    "delete_customer",
    "find_or_create_conversation",
    "find_or_create_customer",
    "get_conversation_by_gmail_thread_id",
    "get_conversation_messages",
    "get_customer_by_email",
    "get_customer_by_id",
    "get_customer_conversations",
    "get_email_message_by_gmail_id",
    "link_lead_to_customer",
    "list_replies",
    "query_customers",
    "recompute_all_stats",
    "reject_quote",
    "reply",
    "response_ratios",
    "send_quote",
    "set_lead_status",
    "top_customers_by_revenue",
    "update_customer",
    "update_customer_stats",
]
