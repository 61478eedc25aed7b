"""Recording a reply written in the CRM: the outbound message and its way out.

``reply`` stores the EmailMessage (status ``draft`` until Gmail has sent it, so it
moves no last contact yet) with a Message-ID of our own on the mailbox's domain,
In-Reply-To and References from the conversation, a "Re: " subject, and beside it
the OutboundReply row that the sending job acts on. It sends nothing: the caller
sends the job in the same transaction (worker: ``enqueue("send_reply", id)`` inside
``unit_of_work``), and anything left queued is picked up again from the database.
"""

from __future__ import annotations

import re
from email.utils import make_msgid

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.analytics.ai_counts import count_ai_messages
from crm_core.conversations.service import get_conversation
from crm_core.customers.service import get_customer
from crm_core.errors import ConflictError, ValidationError
from crm_core.insight.templates import OutboundText, templates_for
from crm_core.models import EmailMessage, OutboundReply
from crm_core.models.types import utcnow
from crm_core.normalize import mailbox_key, normalize_email
from crm_core.statuses import CustomerStatus, Direction, MessageStatus, ReplyState, SendMode

# How many earlier Message-IDs go into References (the newest ones).
MAX_REFERENCES = 20
_REPLY_PREFIX = re.compile(r"^\s*(re|sv|aw|vs)\s*:", re.IGNORECASE)


def gmail_thread_of(thread_key: str | None) -> str | None:
    """The conversation's Gmail thread id, or None for the keys ingestion makes up for
    mail that came without one (``msgid:…``, ``gmail:…``, e.g. from an mbox file):
    Gmail knows no such thread, so the reply starts its own and takes its id."""
    return thread_key if thread_key and ":" not in thread_key else None


def reply_subject(subject: str | None) -> str:
    """ "Re: " before the thread's subject, unless it already has a reply prefix."""
    text = " ".join((subject or "").split())
    if _REPLY_PREFIX.match(text):
        return text
    return f"Re: {text}" if text else "Re:"


def reply(
    session: Session,
    conversation_id: str,
    body: str,
    *,
    author: str,
    is_ai_generated: bool = False,
    ai_model: str | None = None,
    template: str | None = None,
    mode: str | SendMode = SendMode.DRAFT,
    html: str | None = None,
    sender: str | None = None,
) -> OutboundReply:
    """Record a reply to the conversation's customer; returns its OutboundReply
    (``id`` is the EmailMessage's id too).

    ``sender`` is the mailbox to send from when the conversation names none. A
    dry-run reply is recorded as done; the others are ``queued`` for the sending job.
    Refuses a blocked customer, a customer without an address, an empty body.
    """
    mode = SendMode(mode)
    if not body.strip():
        raise ValidationError("the reply is empty: write a body")
    if not author.strip():
        raise ValidationError("a reply needs an author (who wrote or approved it)")
    conversation = get_conversation(session, conversation_id)
    if conversation.customer_id is None:
        raise ConflictError(f"conversation {conversation_id} has no customer to reply to")
    customer = get_customer(session, conversation.customer_id)
    if customer.status is CustomerStatus.BLOCKED:
        raise ConflictError(f"customer {customer.id} is blocked: nothing is sent to them")
    if not customer.email:
        raise ConflictError(f"customer {customer.id} has no email address")
    mailbox = conversation.mailbox or mailbox_key(sender)
    if not mailbox:
        raise ValidationError("the conversation has no mailbox: say which one sends it")
    if normalize_email(customer.email) == mailbox:
        raise ConflictError(f"{customer.email} is the sending mailbox itself")
    earlier = _thread_ids(session, conversation.id)
    last_subject = _last_subject(session, conversation.id)
    now = utcnow()
    message = EmailMessage(
        conversation_id=conversation.id,
        mailbox=mailbox,
        gmail_thread_id=gmail_thread_of(conversation.gmail_thread_id),
        rfc822_message_id=make_msgid(domain=mailbox.rpartition("@")[2])[1:-1],
        in_reply_to=earlier[-1] if earlier else None,
        from_address=mailbox,
        to_address=customer.email,
        subject=reply_subject(last_subject or conversation.subject),
        body=body,
        body_preview=_preview(body),
        attachments=[],
        direction=Direction.OUTBOUND,
        status=MessageStatus.DRAFT,
        is_ai_generated=is_ai_generated,
        ai_model=ai_model,
        sent_at=now,
        template_id=templates_for(session, [OutboundText(body, template)])[0],
    )
    session.add(message)
    session.flush()
    if is_ai_generated:
        count_ai_messages(session, [ai_model])
    dry_run = mode is SendMode.DRY_RUN
    outbound = OutboundReply(
        id=message.id,
        mailbox=mailbox,
        mode=mode,
        state=ReplyState.DRY_RUN if dry_run else ReplyState.QUEUED,
        reason="dry run: recorded, nothing sent" if dry_run else None,
        author=author.strip(),
        template=template,
        html=html,
        reference_ids=" ".join(earlier[-MAX_REFERENCES:]) or None,
        attempts=0,
    )
    session.add(outbound)
    session.flush()
    return outbound


def _preview(body: str, limit: int = 200) -> str:
    # As messages.preview_of (not imported: messages imports this package for the
    # sent copies, and packages of crm_core form no cycles).
    return " ".join(body.split())[:limit]


def _thread_ids(session: Session, conversation_id: str) -> list[str]:
    """The Message-IDs of the conversation's messages, oldest first."""
    rows = session.execute(
        select(EmailMessage.rfc822_message_id)
        .where(
            EmailMessage.conversation_id == conversation_id,
            EmailMessage.rfc822_message_id.is_not(None),
            EmailMessage.gmail_message_id.is_not(None),  # what the customer has seen
        )
        .order_by(EmailMessage.sent_at, EmailMessage.created_at)
    ).scalars()
    return [str(r) for r in rows]


def _last_subject(session: Session, conversation_id: str) -> str | None:
    return session.execute(
        select(EmailMessage.subject)
        .where(EmailMessage.conversation_id == conversation_id, EmailMessage.subject.is_not(None))
        .order_by(EmailMessage.sent_at.desc(), EmailMessage.created_at.desc())
        .limit(1)
    ).scalar()
