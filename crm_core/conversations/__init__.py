from crm_core.conversations.service import (
    close_conversation,
    create_conversation,
    customer_conversation_page,
    find_or_create_conversation,
    get_conversation,
    get_conversation_by_gmail_thread_id,
    get_customer_conversations,
    thread_of_references,
    touch_conversation,
)

__all__ = [
    "close_conversation",
    "create_conversation",
    "customer_conversation_page",
    "find_or_create_conversation",
    "get_conversation",
    "get_conversation_by_gmail_thread_id",
    "get_customer_conversations",
    "thread_of_references",
    "touch_conversation",
]
