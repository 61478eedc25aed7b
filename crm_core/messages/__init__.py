from crm_core.messages.bounces import apply_waiting_bounces, mark_bounced, waiting_bounce_reason
from crm_core.messages.bulk import NewMessage, store_new_messages
from crm_core.messages.effects import FiledMessage, messages_filed
from crm_core.messages.recorded import (
    SeenInMailbox,
    already_stored,
    complete_recorded,
    find_recorded,
)
from crm_core.messages.service import (
    create_email_message,
    get_conversation_messages,
    get_email_message_by_gmail_id,
    latest_conversation_messages,
    preview_of,
)

__all__ = [
    "FiledMessage",
    "NewMessage",
    "SeenInMailbox",
    "already_stored",
    "apply_waiting_bounces",
    "complete_recorded",
    "create_email_message",
    "find_recorded",
    "get_conversation_messages",
    "get_email_message_by_gmail_id",
    "latest_conversation_messages",
    "mark_bounced",
    "messages_filed",
    "preview_of",
    "store_new_messages",
    "waiting_bounce_reason",
]
