"""All tables. Importing this module registers every model on ``Base.metadata``."""

from crm_core.models.ai_message_count import AiMessageCount
from crm_core.models.base import Base
from crm_core.models.booking import Booking
from crm_core.models.conversation import Conversation
from crm_core.models.customer import Customer
from crm_core.models.customer_tag import CustomerTag
from crm_core.models.email_message import EmailMessage
from crm_core.models.erasure import Erasure, Suppression
from crm_core.models.lead import Lead
from crm_core.models.lead_score import LeadScore, LeadScoreCount, LeadScoringState
from crm_core.models.mailbox import Mailbox
from crm_core.models.message_template import MessageTemplate, TemplateBand
from crm_core.models.note import Note
from crm_core.models.outbound_reply import OutboundReply
from crm_core.models.quote import Quote
from crm_core.models.received_message import ReceivedMessage
from crm_core.models.webhook import WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "AiMessageCount",
    "Base",
    "Booking",
    "Conversation",
    "Customer",
    "CustomerTag",
    "EmailMessage",
    "Erasure",
    "Lead",
    "LeadScore",
    "LeadScoreCount",
    "LeadScoringState",
    "Mailbox",
    "MessageTemplate",
    "Note",
    "OutboundReply",
    "Quote",
    "ReceivedMessage",
    "Suppression",
    "TemplateBand",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
]
