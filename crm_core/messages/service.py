"""Email messages: stored once per Gmail message id and mailbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_core.analytics.ai_counts import count_ai_messages
from crm_core.conversations.service import get_conversation, touch_conversation
from crm_core.customers.service import touch_last_contact
from crm_core.ids import new_id
from crm_core.insight.stored import insight_columns
from crm_core.messages.bounces import apply_waiting_bounces
from crm_core.messages.effects import FiledMessage, messages_filed
from crm_core.models import EmailMessage
from crm_core.models.types import utcnow
from crm_core.normalize import mailbox_key
from crm_core.statuses import Direction, MessageStatus, parse_status
from crm_core.upsert import insert_ignore_returning
from crm_core.webhooks.events import emit, message_data, message_event

PREVIEW_CHARS = 200


def preview_of(body: str, limit: int = PREVIEW_CHARS) -> str:
    """The first ``limit`` characters of the body, whitespace folded."""
    return " ".join(body.split())[:limit]


def create_email_message(
    session: Session,
    *,
    conversation_id: str,
    from_address: str,
    to_address: str,
    body: str,
    direction: str | Direction,
    subject: str | None = None,
    body_preview: str | None = None,
    gmail_message_id: str | None = None,
    gmail_thread_id: str | None = None,
    mailbox: str | None = None,
    status: str | MessageStatus = MessageStatus.SENT,
    is_ai_generated: bool = False,
    ai_model: str | None = None,
    sent_at: datetime | None = None,
    cc_address: str | None = None,
    rfc822_message_id: str | None = None,
    in_reply_to: str | None = None,
    attachments: Sequence[dict[str, Any]] = (),
    template: str | None = None,
) -> EmailMessage:
    """Store a message and move the conversation's and customer's last contact forward.

    A draft is stored but is not contact: it moves no last-contact time and no lead
    status (see crm_core.messages.effects for what other messages move).

    Idempotent on the Gmail message id (per mailbox; the conversation's mailbox when
    none is given): a second call with the same id returns the stored message and
    changes nothing, so flags set by the first call (is_ai_generated, ai_model) stay.

    ``template`` names the template an outbound message was written from; without it
    the template is found by similarity (crm_core/insight/templates.py). An inbound
    message gets its sentiment score (crm_core/insight/sentiment.py).
    """
    conversation = get_conversation(session, conversation_id)
    key = mailbox_key(mailbox) if mailbox is not None else conversation.mailbox
    when = sent_at or utcnow()
    direction_value = parse_status(Direction, direction, "direction")
    status_value = parse_status(MessageStatus, status)
    values: dict[str, Any] = {
        "id": new_id(),
        "conversation_id": conversation.id,
        "mailbox": key,
        "gmail_message_id": gmail_message_id,
        "gmail_thread_id": gmail_thread_id or conversation.gmail_thread_id,
        "rfc822_message_id": rfc822_message_id,
        "in_reply_to": in_reply_to,
        "from_address": from_address,
        "to_address": to_address,
        "cc_address": cc_address,
        "subject": subject,
        "body": body,
        "body_preview": body_preview if body_preview is not None else preview_of(body),
        "attachments": list(attachments),
        "direction": direction_value.value,
        "status": status_value.value,
        "is_ai_generated": is_ai_generated,
        "ai_model": ai_model,
        "sent_at": when,
        "created_at": utcnow(),
        "updated_at": utcnow(),
        **insight_columns(session, [(direction_value, body, template)])[0],
    }
    if gmail_message_id is None:
        message = EmailMessage(**values)
        session.add(message)
        session.flush()
        inserted = True
    else:
        # Insert first: new messages are the common case. On a conflict nothing is
        # written and the stored message is read and returned unchanged.
        created = insert_ignore_returning(
            session, EmailMessage, values, conflict=["mailbox", "gmail_message_id"]
        )
        inserted = created is not None
        found = created or get_email_message_by_gmail_id(session, gmail_message_id, key)
        assert found is not None  # inserted now, or the conflict proves it exists
        message = found
    if inserted and is_ai_generated:
        count_ai_messages(session, [ai_model])
    if inserted and status_value != MessageStatus.DRAFT:
        touch_conversation(session, conversation.id, when)
        if conversation.customer_id is not None:
            touch_last_contact(session, conversation.customer_id, when)
        messages_filed(session, [FiledMessage(conversation.id, direction_value, status_value)])
        emit(
            session,
            message_event(direction_value.value),
            message_data(message, conversation.customer_id),
            customer_id=conversation.customer_id,
        )
        if message.direction == Direction.OUTBOUND and rfc822_message_id:
            # A bounce of this message may have been filed before it.
            apply_waiting_bounces(session, key, {rfc822_message_id: message.id})
    return message


def get_email_message_by_gmail_id(
    session: Session, gmail_message_id: str, mailbox: str | None = None
) -> EmailMessage | None:
    """The message with this Gmail id; in the given mailbox, or in any when None."""
    statement = select(EmailMessage).where(EmailMessage.gmail_message_id == gmail_message_id)
    if mailbox is not None:
        statement = statement.where(EmailMessage.mailbox == mailbox_key(mailbox))
    return session.execute(statement.order_by(EmailMessage.created_at).limit(1)).scalar()


def latest_conversation_messages(
    session: Session, conversation_id: str, limit: int
) -> tuple[list[EmailMessage], int]:
    """The newest ``limit`` messages of a conversation, oldest first, and how many it has."""
    total = session.execute(
        select(func.count())
        .select_from(EmailMessage)
        .where(EmailMessage.conversation_id == conversation_id)
    ).scalar_one()
    newest = list(
        session.execute(
            select(EmailMessage)
            .where(EmailMessage.conversation_id == conversation_id)
            .order_by(EmailMessage.sent_at.desc(), EmailMessage.created_at.desc())
            .limit(limit)
        ).scalars()
    )
    return newest[::-1], int(total)


def get_conversation_messages(session: Session, conversation_id: str) -> list[EmailMessage]:
    """The conversation's messages, oldest first."""
    return list(
        session.execute(
            select(EmailMessage)
            .where(EmailMessage.conversation_id == conversation_id)
            .order_by(EmailMessage.sent_at, EmailMessage.created_at)
        ).scalars()
    )
