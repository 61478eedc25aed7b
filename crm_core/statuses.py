"""The documented values of every status-like field. The database enforces them too."""

from enum import StrEnum
from typing import TypeVar

from crm_core.errors import InvalidStatusError


class CustomerStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    BLOCKED = "blocked"


class Channel(StrEnum):
    EMAIL = "email"
    CHAT = "chat"
    PHONE = "phone"
    SMS = "sms"


class ConversationStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"
    ARCHIVED = "archived"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class MessageStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    FAILED = "failed"
    BOUNCED = "bounced"


class LeadStatus(StrEnum):
    NEW = "new"
    CONTACTED = "contacted"
    QUOTED = "quoted"
    WON = "won"
    LOST = "lost"


class QuoteStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class BookingStatus(StrEnum):
    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


E = TypeVar("E", bound=StrEnum)


def parse_status(enum: type[E], value: str | E, field: str = "status") -> E:
    """Return ``value`` as a member of ``enum`` or raise a clear InvalidStatusError."""
    if isinstance(value, enum):
        return value
    try:
        return enum(str(value).strip().lower())
    except ValueError:
        raise InvalidStatusError(field, value, [m.value for m in enum]) from None


class IngestOutcome(StrEnum):
    """What became of a received message; every message ends in exactly one of these."""

    PENDING = "pending"  # staged, not yet processed
    STORED = "stored"  # an EmailMessage holds it
    SKIPPED = "skipped"  # noise, spam, drafts, internal mail: reason says which
    BOUNCE = "bounce"  # a delivery report; the original outbound message is marked
    QUARANTINED = "quarantined"  # could not be processed; raw bytes kept for a retry
    # The person asked to be erased (crm_core.privacy.erase): only the Gmail ids stay,
    # so a re-sync never fetches the message again. Final, like the others.
    ERASED = "erased"


class MailboxStatus(StrEnum):
    ACTIVE = "active"
    NEEDS_REAUTH = "needs_reauth"  # the refresh token was revoked or expired
    FAILED = "failed"  # repeated errors; see last_error


class SendMode(StrEnum):
    """How a reply leaves the CRM (``[sending] mode``, per mailbox overridable)."""

    DRAFT = "draft"  # a Gmail draft in the thread, for a person to read, edit and send
    SEND = "send"  # sent at once
    DRY_RUN = "dry-run"  # recorded, nothing sent


class ReplyState(StrEnum):
    """Where a reply stands on its way out; see crm_core/replies/states.py."""

    QUEUED = "queued"  # recorded; its job will draft or send it (reason: why it waits)
    SENDING = "sending"  # a send was started: its outcome is known only once looked up
    DRAFTED = "drafted"  # a Gmail draft waits for a person (or `crm reply approve`)
    DRY_RUN = "dry_run"  # recorded only
    SENT = "sent"
    FAILED = "failed"  # Gmail refused it, or a safety rule did (reason says which)
    CANCELLED = "cancelled"


class DeliveryStatus(StrEnum):
    """One webhook event for one endpoint (crm_core/webhooks/deliveries.py)."""

    PENDING = "pending"  # not yet delivered; next_attempt_at says when it is tried
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # every attempt failed, or the endpoint was disabled meanwhile


class Sentiment(StrEnum):
    """The label of an inbound message's sentiment score (crm_core/insight/sentiment.py)."""

    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"
