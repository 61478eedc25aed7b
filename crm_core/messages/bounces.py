"""Bounces: an outbound message a delivery report refers to is marked bounced.

The report may be ingested before its original (bulk imports, parallel workers): its
ledger row then waits with a reason naming the Message-ID, and storing the original
later looks for that reason and marks it bounced then.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from crm_core.inbox.outcomes import record_outcome
from crm_core.models import Conversation, EmailMessage, ReceivedMessage
from crm_core.normalize import mailbox_key
from crm_core.statuses import Direction, IngestOutcome, MessageStatus
from crm_core.webhooks.events import emit_many, message_data


def waiting_bounce_reason(message_id: str) -> str:
    return f"original not found: {message_id}"


def mark_bounced(
    session: Session, mailbox: str, rfc822_message_ids: Sequence[str]
) -> list[EmailMessage]:
    """Mark the outbound messages with these Message-IDs bounced; returns them."""
    if not rfc822_message_ids:
        return []
    originals = list(
        session.execute(
            select(EmailMessage).where(
                EmailMessage.mailbox.in_([mailbox_key(mailbox), ""]),
                EmailMessage.direction == Direction.OUTBOUND,
                EmailMessage.rfc822_message_id.in_(list(rfc822_message_ids)),
            )
        ).scalars()
    )
    for original in originals:
        original.status = MessageStatus.BOUNCED
    emit_bounced(session, originals)
    return originals


def emit_bounced(session: Session, messages: Sequence[EmailMessage]) -> None:
    """message.bounced for each, with the customer of its conversation."""
    if not messages:
        return
    owners = dict(
        session.execute(
            select(Conversation.id, Conversation.customer_id).where(
                Conversation.id.in_({m.conversation_id for m in messages})
            )
        ).all()
    )
    items = []
    for message in sorted(messages, key=lambda m: m.id):
        customer_id = owners.get(message.conversation_id)
        items.append((message_data(message, customer_id), customer_id))
    emit_many(session, "message.bounced", items)


def apply_waiting_bounces(session: Session, mailbox: str, sent: Mapping[str, str]) -> None:
    """Outbound messages just stored whose bounce was ingested before them are marked
    bounced. ``sent`` maps their Message-IDs to the stored EmailMessage ids."""
    if not sent:
        return
    by_reason = {waiting_bounce_reason(message_id): key for message_id, key in sent.items()}
    bounces = session.execute(
        select(ReceivedMessage)
        .where(
            ReceivedMessage.mailbox == mailbox_key(mailbox),
            ReceivedMessage.outcome == IngestOutcome.BOUNCE,
            ReceivedMessage.reason.in_(list(by_reason)),
        )
        .options(defer(ReceivedMessage.raw))  # a bounce often quotes the whole original
    ).scalars()
    bounced = []
    for bounce in bounces:
        message_id = by_reason[bounce.reason or ""]
        stored = session.get(EmailMessage, message_id)
        if stored is not None:
            stored.status = MessageStatus.BOUNCED
            bounced.append(stored)
        record_outcome(bounce, IngestOutcome.BOUNCE, "bounced 1 outbound", message_id)
    emit_bounced(session, bounced)
