from crm_core.messages.effects import FiledMessage, messages_filed
from crm_core.messages.service import (
    create_email_message,
    get_conversation_messages,
    get_email_message_by_gmail_id,
    latest_conversation_messages,
    preview_of,
)

__all__ = [
    "FiledMessage",
    "create_email_message",
    "get_conversation_messages",
    "get_email_message_by_gmail_id",
    "latest_conversation_messages",
    "messages_filed",
    "preview_of",
]
