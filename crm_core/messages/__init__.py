from crm_core.messages.service import (
    create_email_message,
    get_conversation_messages,
    get_email_message_by_gmail_id,
    preview_of,
)

__all__ = [
    "create_email_message",
    "get_conversation_messages",
    "get_email_message_by_gmail_id",
    "preview_of",
]
