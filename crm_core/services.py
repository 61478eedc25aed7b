"""Every service function in one place, named after the specification's API.

``from crm_core import services`` then ``services.find_or_create_customer(session, …)``.
Each takes a session and never commits.
"""

from crm_core.analytics import ai_emails_by_model, response_ratios, top_customers_by_revenue
from crm_core.bookings import (
    cancel_booking,
    complete_booking,
    count_bookings,
    create_booking,
    list_bookings,
)
from crm_core.conversations import (
    archive_conversation,
    close_conversation,
    count_conversations,
    create_conversation,
    find_or_create_conversation,
    get_conversation,
    get_conversation_by_gmail_thread_id,
    get_customer_conversations,
    list_conversations,
    reopen_conversation,
)
from crm_core.customers import (
    aliases_of,
    create_customer,
    customer_page,
    delete_customer,
    find_duplicates,
    find_or_create_customer,
    get_customer_by_email,
    get_customer_by_id,
    link_lead_to_customer,
    mail_refusal,
    merge_customers,
    query_customers,
    unlink_lead,
    update_customer,
)
from crm_core.leads import (
    LeadFilter,
    count_leads,
    create_lead,
    get_lead,
    lead_source_message,
    list_leads,
    list_leads_by_score,
    set_lead_status,
)
from crm_core.messages import (
    create_email_message,
    get_conversation_messages,
    get_email_message_by_gmail_id,
)
from crm_core.notes import add_note, count_notes, list_notes
from crm_core.quotes import (
    accept_quote,
    count_quotes,
    create_quote,
    get_quote,
    list_quotes,
    reject_quote,
    send_quote,
)
from crm_core.replies import approve as approve_reply
from crm_core.replies import cancel as cancel_reply
from crm_core.replies import list_replies, reply
from crm_core.scoring import lead_score, rebuild_scores, request_rescore
from crm_core.search import search_customers, search_messages
from crm_core.stats import recompute_all_stats, update_customer_stats

__all__ = [
    "LeadFilter",
    "accept_quote",
    "add_note",
    "ai_emails_by_model",
    "aliases_of",
    "approve_reply",
    "archive_conversation",
    "cancel_booking",
    "cancel_reply",
    "close_conversation",
    "complete_booking",
    "count_bookings",
    "count_conversations",
    "count_leads",
    "count_notes",
    "count_quotes",
    "create_booking",
    "create_conversation",
    "create_customer",
    "create_email_message",
    "create_lead",
    "create_quote",
    "customer_page",
    "delete_customer",
    "find_duplicates",
    "find_or_create_conversation",
    "find_or_create_customer",
    "get_conversation",
    "get_conversation_by_gmail_thread_id",
    "get_conversation_messages",
    "get_customer_by_email",
    "get_customer_by_id",
    "get_customer_conversations",
    "get_email_message_by_gmail_id",
    "get_lead",
    "get_quote",
    "lead_score",
    "lead_source_message",
    "link_lead_to_customer",
    "list_bookings",
    "list_conversations",
    "list_leads",
    "list_leads_by_score",
    "list_notes",
    "list_quotes",
    "list_replies",
    "mail_refusal",
    "merge_customers",
    "query_customers",
    "rebuild_scores",
    "recompute_all_stats",
    "reject_quote",
    "reopen_conversation",
    "reply",
    "request_rescore",
    "response_ratios",
    "search_customers",
    "search_messages",
    "send_quote",
    "set_lead_status",
    "top_customers_by_revenue",
    "unlink_lead",
    "update_customer",
    "update_customer_stats",
]
