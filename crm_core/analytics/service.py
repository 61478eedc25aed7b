"""The specification's analytics, computed by the database (no row-by-row Python)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ScalarSelect, exists, func, select
from sqlalchemy.orm import Session

from crm_core.models import AiMessageCount, Conversation, Customer, EmailMessage
from crm_core.paging import DEFAULT_LIMIT, Page, first_page
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
    return top_customers_page(session, limit=limit, status=status).items


def top_customers_page(
    session: Session,
    *,
    limit: int | None = 10,
    status: str | CustomerStatus | None = CustomerStatus.ACTIVE,
) -> Page[Customer]:
    """``top_customers_by_revenue`` with the number of customers ranked (None: all).

    Read from the index on (status, total_revenue DESC, name).
    """
    statement = select(Customer)
    if status is not None:
        statement = statement.where(Customer.status == parse_status(CustomerStatus, status))
    statement = statement.order_by(Customer.total_revenue.desc(), Customer.name)
    return first_page(session, statement, limit=limit)


def response_ratios(
    session: Session, customer_id: str | None = None, limit: int | None = None
) -> list[ConversationRatio]:
    """Outbound and inbound message counts per conversation (all, or one customer's),
    most recently active first."""
    return response_ratio_page(session, customer_id=customer_id, limit=limit).items


def response_ratio_page(
    session: Session, *, customer_id: str | None = None, limit: int | None = DEFAULT_LIMIT
) -> Page[ConversationRatio]:
    """``response_ratios`` with the number of conversations that have messages.

    The conversations come from the index on last_contact_at (which every stored
    message moves forward to its own time, so it is the newest message's time), and
    each one's messages are counted through the index on conversation_id: a page
    costs its own rows, not an aggregate over every message.
    """

    def counted(direction: Direction) -> ScalarSelect[int]:
        return (
            select(func.count())
            .where(EmailMessage.conversation_id == Conversation.id)
            .where(EmailMessage.direction == direction)
            .scalar_subquery()
        )

    statement = (
        select(
            Conversation.id,
            Conversation.subject,
            Conversation.customer_id,
            Customer.name,
            counted(Direction.OUTBOUND),
            counted(Direction.INBOUND),
        )
        .outerjoin(Customer, Customer.id == Conversation.customer_id)
        .where(Conversation.last_contact_at.is_not(None))
        .where(exists().where(EmailMessage.conversation_id == Conversation.id))
        .order_by(Conversation.last_contact_at.desc(), Conversation.id.desc())
    )
    # Every conversation with a last contact has messages: the planner's estimate of
    # the EXISTS was 400,000 of 1,000,000.
    estimate = select(Conversation.id).where(Conversation.last_contact_at.is_not(None))
    if customer_id is not None:
        statement = statement.where(Conversation.customer_id == customer_id)
        estimate = estimate.where(Conversation.customer_id == customer_id)
    page = first_page(session, statement, limit=limit, estimate=estimate)
    return Page([ConversationRatio(*row) for row in page.items], page.total)


def ai_emails_by_model(session: Session) -> list[AiModelCount]:
    """How many AI-generated emails each model wrote; a missing model is "unknown"."""
    return ai_emails_page(session, limit=None).items


def ai_emails_page(session: Session, *, limit: int | None = DEFAULT_LIMIT) -> Page[AiModelCount]:
    """``ai_emails_by_model``, most used model first, with the number of models.

    Reads the counts kept per model (crm_core.analytics.ai_counts), a few rows
    whatever the amount of mail.
    """
    statement = (
        select(AiMessageCount.model, AiMessageCount.messages)
        .where(AiMessageCount.messages > 0)
        .order_by(AiMessageCount.messages.desc(), AiMessageCount.model)
    )
    page = first_page(session, statement, limit=limit)
    return Page([AiModelCount(str(name), int(count)) for name, count in page.items], page.total)
