from crm_core.conversations.listing import (
    count_conversations,
    list_conversations,
    message_counts,
)
from crm_core.conversations.service import (
    adopt_thread,
    archive_conversation,
    close_conversation,
    create_conversation,
    customer_conversation_page,
    find_or_create_conversation,
    get_conversation,
    get_conversation_by_gmail_thread_id,
    get_customer_conversations,
    reopen_conversation,
    thread_of_references,
    touch_conversation,
)

__all__ = [
    "adopt_thread",
    "archive_conversation",
    "close_conversation",
    "count_conversations",
    "create_conversation",
    "customer_conversation_page",
    "find_or_create_conversation",
    "get_conversation",
    "get_conversation_by_gmail_thread_id",
    "get_customer_conversations",
    "list_conversations",
    "message_counts",
    "reopen_conversation",
    "thread_of_references",
    "touch_conversation",
]
