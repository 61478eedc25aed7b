"""How many records the CRM holds, for status pages, metrics and import summaries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_core.models import Conversation, Customer, EmailMessage, Lead
from crm_core.statuses import Direction


@dataclass(frozen=True, slots=True)
class RecordCounts:
    customers: int
    leads: int
    messages: int


def record_counts(session: Session) -> RecordCounts:
    def count(model: type[Customer] | type[Lead] | type[EmailMessage]) -> int:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())

    return RecordCounts(count(Customer), count(Lead), count(EmailMessage))


def messages_by_direction(session: Session) -> dict[Direction, int]:
    rows = session.execute(
        select(EmailMessage.direction, func.count()).group_by(EmailMessage.direction)
    )
    return {direction: int(count) for direction, count in rows}


def activity_by_customer(session: Session) -> dict[str, tuple[int, int]]:
    """{customer id: (conversations, messages)} for every customer with a conversation."""
    rows = session.execute(
        select(
            Conversation.customer_id,
            func.count(func.distinct(Conversation.id)),
            func.count(EmailMessage.id),
        )
        .outerjoin(EmailMessage, EmailMessage.conversation_id == Conversation.id)
        .where(Conversation.customer_id.is_not(None))
        .group_by(Conversation.customer_id)
    )
    return {str(customer_id): (int(c), int(m)) for customer_id, c, m in rows}


def message_counts(session: Session, conversation_ids: Sequence[str]) -> dict[str, int]:
    """{conversation id: messages} for the given conversations (those with any)."""
    if not conversation_ids:
        return {}
    rows = session.execute(
        select(EmailMessage.conversation_id, func.count())
        .where(EmailMessage.conversation_id.in_(list(conversation_ids)))
        .group_by(EmailMessage.conversation_id)
    )
    return {conversation_id: int(count) for conversation_id, count in rows}
