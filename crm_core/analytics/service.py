"""The specification's analytics, computed by the database (no row-by-row Python)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from crm_core.models import Conversation, Customer, EmailMessage
from crm_core.paging import checked_limit
from crm_core.statuses import CustomerStatus, Direction, parse_status


@dataclass(frozen=True, slots=True)
class ConversationRatio:
    conversation_id: str
    subject: str | None
    customer_id: str | None
    customer_name: str | None
    outbound: int
    inbound: int

    @property
    def ratio(self) -> float | None:
        """Replies per inbound message; None when the customer never wrote."""
        return self.outbound / self.inbound if self.inbound else None


@dataclass(frozen=True, slots=True)
class AiModelCount:
    model: str
    count: int


def top_customers_by_revenue(
    session: Session, limit: int = 10, status: str | CustomerStatus | None = CustomerStatus.ACTIVE
) -> list[Customer]:
    """Customers with the highest total revenue (active ones by default)."""
    statement = select(Customer)
    if status is not None:
        statement = statement.where(Customer.status == parse_status(CustomerStatus, status))
    statement = statement.order_by(Customer.total_revenue.desc(), Customer.name).limit(
        checked_limit(limit)
    )
    return list(session.execute(statement).scalars())


def response_ratios(
    session: Session, customer_id: str | None = None, limit: int | None = None
) -> list[ConversationRatio]:
    """Outbound and inbound message counts per conversation (all, or one customer's)."""
    outbound = func.count(case((EmailMessage.direction == Direction.OUTBOUND, 1)))
    inbound = func.count(case((EmailMessage.direction == Direction.INBOUND, 1)))
    statement = (
        select(
            Conversation.id,
            Conversation.subject,
            Conversation.customer_id,
            Customer.name,
            outbound,
            inbound,
        )
        .join(EmailMessage, EmailMessage.conversation_id == Conversation.id)
        .outerjoin(Customer, Customer.id == Conversation.customer_id)
        .group_by(Conversation.id, Conversation.subject, Conversation.customer_id, Customer.name)
        .order_by(func.max(EmailMessage.sent_at).desc())
    )
    if customer_id is not None:
        statement = statement.where(Conversation.customer_id == customer_id)
    if checked_limit(limit) is not None:
        statement = statement.limit(limit)
    return [ConversationRatio(*row) for row in session.execute(statement)]


def ai_emails_by_model(session: Session) -> list[AiModelCount]:
    """How many AI-generated emails each model wrote; a missing model is "unknown"."""
    model = func.coalesce(EmailMessage.ai_model, "unknown")
    statement = (
        select(model, func.count())
        .where(EmailMessage.is_ai_generated.is_(True))
        .group_by(model)
        .order_by(func.count().desc(), model)
    )
    return [AiModelCount(str(name), int(count)) for name, count in session.execute(statement)]
