"""The insight reports: aggregate queries over what ingestion stored.

Templates: per template, how often it was used (outbound messages that are not drafts,
optionally since a date), in how many conversations, how many uses the customer
answered within ``REPLY_WINDOW_DAYS`` (an inbound message in the same conversation
after it), and how many of its conversations led to an accepted quote or a booking
that was not cancelled, made after the use (the conversation's lead's quote or
booking; for a conversation without a lead, the customer's).

Sentiment: the customers whose newest scored inbound message is negative — the
follow-up list — with the score before it; and one customer's last scores.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import Subquery

from crm_core.insight.dates import plus_days
from crm_core.insight.text import own_text, with_placeholders
from crm_core.models import (
    Booking,
    Conversation,
    Customer,
    EmailMessage,
    MessageTemplate,
    Quote,
)
from crm_core.paging import DEFAULT_LIMIT, Page, first_page
from crm_core.statuses import BookingStatus, Direction, MessageStatus, QuoteStatus, Sentiment

REPLY_WINDOW_DAYS = 7
TREND_LENGTH = 5


@dataclass(frozen=True, slots=True)
class TemplateUse:
    template_id: str
    name: str | None
    uses: int
    replied: int
    conversations: int
    converted: int
    example_message_id: str | None
    last_used: datetime

    @property
    def reply_rate(self) -> float:
        return self.replied / self.uses if self.uses else 0.0

    @property
    def conversion_rate(self) -> float:
        return self.converted / self.conversations if self.conversations else 0.0


def template_report_page(
    session: Session, *, since: datetime | None = None, limit: int | None = DEFAULT_LIMIT
) -> Page[TemplateUse]:
    """Templates used at least twice, or named, most used first."""
    m = EmailMessage
    c = Conversation
    answer = aliased(EmailMessage)
    replied = exists().where(
        answer.conversation_id == m.conversation_id,
        answer.direction == Direction.INBOUND,
        answer.sent_at > m.sent_at,
        answer.sent_at <= plus_days(m.sent_at, REPLY_WINDOW_DAYS),
    )
    same_lead = or_(
        Quote.lead_id == c.lead_id, and_(c.lead_id.is_(None), Quote.customer_id == c.customer_id)
    )
    accepted = exists().where(
        same_lead, Quote.status == QuoteStatus.ACCEPTED, Quote.accepted_at >= m.sent_at
    )
    booked = exists().where(
        or_(
            Booking.lead_id == c.lead_id,
            and_(c.lead_id.is_(None), Booking.customer_id == c.customer_id),
        ),
        Booking.status != BookingStatus.CANCELLED,
        Booking.created_at >= m.sent_at,
    )
    uses = func.count(m.id)
    statement = (
        select(
            MessageTemplate.id,
            MessageTemplate.name,
            uses.label("uses"),
            func.sum(case((replied, 1), else_=0)).cast(Integer).label("replied"),
            func.count(func.distinct(m.conversation_id)).label("conversations"),
            func.count(func.distinct(case((or_(accepted, booked), m.conversation_id)))).label(
                "converted"
            ),
            func.min(m.id).label("example"),
            func.max(m.sent_at).label("last_used"),
        )
        .join(m, m.template_id == MessageTemplate.id)
        .join(c, c.id == m.conversation_id)
        .where(m.direction == Direction.OUTBOUND, m.status != MessageStatus.DRAFT)
        .group_by(MessageTemplate.id, MessageTemplate.name)
        .having(or_(uses >= 2, MessageTemplate.name.is_not(None)))
        .order_by(uses.desc(), func.max(m.sent_at).desc(), MessageTemplate.id)
    )
    if since is not None:
        statement = statement.where(m.sent_at >= since)
    page = first_page(session, statement, limit=limit)
    items = [
        TemplateUse(
            template_id=row.id,
            name=row.name,
            uses=int(row.uses),
            replied=int(row.replied or 0),
            conversations=int(row.conversations),
            converted=int(row.converted),
            example_message_id=row.example,
            last_used=row.last_used,
        )
        for row in page.items
    ]
    return Page(items, page.total, page.next_after)


@dataclass(frozen=True, slots=True)
class FollowUp:
    customer_id: str
    name: str
    email: str | None
    message_id: str
    sent_at: datetime
    score: float
    previous_score: float | None
    preview: str | None


def _ranked_inbound() -> Subquery:
    """Scored inbound messages with their customer and rank (1 = newest) per customer."""
    m = EmailMessage
    return (
        select(
            Conversation.customer_id.label("customer_id"),
            m.id.label("message_id"),
            m.sent_at.label("sent_at"),
            m.sentiment_score.label("score"),
            m.sentiment_label.label("label"),
            m.body_preview.label("preview"),
            func.row_number()
            .over(
                partition_by=Conversation.customer_id,
                order_by=(m.sent_at.desc(), m.id.desc()),
            )
            .label("rank"),
        )
        .join(Conversation, Conversation.id == m.conversation_id)
        .where(
            m.direction == Direction.INBOUND,
            m.sentiment_score.is_not(None),
            Conversation.customer_id.is_not(None),
        )
        .subquery()
    )


def follow_up_page(session: Session, *, limit: int | None = DEFAULT_LIMIT) -> Page[FollowUp]:
    """Customers whose newest scored mail is negative, the most negative first."""
    ranked = _ranked_inbound()
    before = ranked.alias("before")
    statement = (
        select(
            Customer.id,
            Customer.name,
            Customer.email,
            ranked.c.message_id,
            ranked.c.sent_at,
            ranked.c.score,
            before.c.score.label("previous"),
            ranked.c.preview,
        )
        .join(Customer, Customer.id == ranked.c.customer_id)
        .outerjoin(before, and_(before.c.customer_id == ranked.c.customer_id, before.c.rank == 2))
        .where(ranked.c.rank == 1, ranked.c.label == Sentiment.NEGATIVE.value)
        .order_by(ranked.c.score, ranked.c.sent_at.desc(), Customer.id)
    )
    page = first_page(session, statement, limit=limit)
    items = [
        FollowUp(
            customer_id=row.id,
            name=row.name,
            email=row.email,
            message_id=row.message_id,
            sent_at=row.sent_at,
            score=float(row.score),
            previous_score=None if row.previous is None else float(row.previous),
            preview=row.preview,
        )
        for row in page.items
    ]
    return Page(items, page.total, page.next_after)


def sentiment_trend(
    session: Session, customer_id: str, length: int = TREND_LENGTH
) -> list[tuple[datetime, float]]:
    """The customer's last ``length`` scores, oldest first."""
    rows = session.execute(
        select(EmailMessage.sent_at, EmailMessage.sentiment_score)
        .join(Conversation, Conversation.id == EmailMessage.conversation_id)
        .where(
            Conversation.customer_id == customer_id,
            EmailMessage.direction == Direction.INBOUND,
            EmailMessage.sentiment_score.is_not(None),
        )
        .order_by(EmailMessage.sent_at.desc(), EmailMessage.id.desc())
        .limit(length)
    ).all()
    return [(row.sent_at, float(row.sentiment_score)) for row in reversed(rows)]


def example_texts(session: Session, message_ids: Iterable[str | None]) -> dict[str, str]:
    """Templates' examples, by message id: each message's own text with placeholders
    (one read for a page of templates)."""
    wanted = sorted({message_id for message_id in message_ids if message_id})
    if not wanted:
        return {}
    rows = session.execute(
        select(EmailMessage.id, EmailMessage.body).where(EmailMessage.id.in_(wanted))
    )
    return {message_id: with_placeholders(own_text(body)) for message_id, body in rows}
