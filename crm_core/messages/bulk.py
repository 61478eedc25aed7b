"""Storing many new messages at once: one insert, then last contact moved forward.

The batch form of ``create_email_message`` for ingestion: what it does for one message
(store it once per mailbox and Gmail id, move the conversation's and its customer's
last contact forward, settle a bounce that arrived first, move leads and reactivate
writers as crm_core.messages.effects says) it does here for a batch, with a few
statements instead of a few per message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from crm_core.identity import advance_last_contacts
from crm_core.ids import new_id
from crm_core.insight.stored import insight_columns
from crm_core.messages.bounces import apply_waiting_bounces
from crm_core.messages.effects import FiledMessage, messages_filed
from crm_core.models import Conversation, Customer, EmailMessage
from crm_core.models.types import utcnow
from crm_core.normalize import mailbox_key
from crm_core.statuses import Direction, MessageStatus
from crm_core.upsert import insert_many_ignore
from crm_core.webhooks.events import emit_many, message_event, message_row_data


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message to store: its conversation, the customer in contact, its columns.

    ``columns`` holds the EmailMessage columns that come from the mail itself
    (addresses, subject, body, preview, Message-IDs, attachments).
    """

    conversation_id: str
    customer_id: str
    gmail_message_id: str
    gmail_thread_id: str | None
    direction: Direction
    sent_at: datetime
    columns: Mapping[str, Any]


def store_new_messages(session: Session, mailbox: str, messages: Sequence[NewMessage]) -> list[str]:
    """Store messages of one mailbox that are not stored yet; returns their ids in order.

    The caller holds the ledger rows of these messages locked, so no other job stores
    the same Gmail ids meanwhile. Mail that arrives is never AI-written here, so the
    AI-emails counts (crm_core.analytics.ai_counts) stay as they are.
    """
    if not messages:
        return []
    key = mailbox_key(mailbox)
    now = utcnow()
    insight = insight_columns(
        session, [(m.direction, str(m.columns.get("body") or ""), None) for m in messages]
    )
    rows = [
        {
            **m.columns,
            "id": new_id(),
            "conversation_id": m.conversation_id,
            "mailbox": key,
            "gmail_message_id": m.gmail_message_id,
            "gmail_thread_id": m.gmail_thread_id,
            "direction": m.direction.value,
            "status": MessageStatus.SENT.value,
            "is_ai_generated": False,
            "ai_model": None,
            "sent_at": m.sent_at,
            "created_at": now,
            "updated_at": now,
            **columns,
        }
        for m, columns in zip(messages, insight, strict=True)
    ]
    insert_many_ignore(
        session,
        EmailMessage.__table__,  # type: ignore[arg-type]
        rows,
        conflict=["mailbox", "gmail_message_id"],
    )
    for direction in (Direction.INBOUND, Direction.OUTBOUND):
        emit_many(
            session,
            message_event(direction.value),
            (
                (message_row_data(row, m.customer_id), m.customer_id)
                for m, row in zip(messages, rows, strict=True)
                if m.direction is direction
            ),
        )
    by_conversation: dict[str, datetime] = {}
    by_customer: dict[str, datetime] = {}
    for m in messages:
        by_conversation[m.conversation_id] = max(
            by_conversation.get(m.conversation_id, m.sent_at), m.sent_at
        )
        by_customer[m.customer_id] = max(by_customer.get(m.customer_id, m.sent_at), m.sent_at)
    advance_last_contacts(session, Conversation, by_conversation)
    advance_last_contacts(session, Customer, by_customer)
    messages_filed(session, [FiledMessage(m.conversation_id, m.direction) for m in messages])
    apply_waiting_bounces(
        session,
        key,
        {
            row["rfc822_message_id"]: row["id"]
            for m, row in zip(messages, rows, strict=True)
            if m.direction is Direction.OUTBOUND and row.get("rfc822_message_id")
        },
    )
    return [str(row["id"]) for row in rows]
