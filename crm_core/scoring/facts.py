"""The facts of leads, read with one statement (a correlated subquery per fact).

Who owns a booking or quote is decided as in crm_core.stats: the customer of its lead
when the lead is linked, else the customer it names. "Earlier" means before the lead
came in, so a lead's own booking never counts as the customer's history.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from crm_core.models import Booking, Conversation, EmailMessage, Lead, Quote
from crm_core.scoring.features import LeadFacts
from crm_core.statuses import BookingStatus, Direction, LeadStatus, MessageStatus, QuoteStatus


def first_reply_at() -> ColumnElement[Any]:
    """Correlated with ``Lead``: when we first wrote (not a draft) in one of the lead's
    conversations; NULL while unanswered. Scoring and the trends report read it."""
    return (
        select(func.min(EmailMessage.sent_at))
        .join(Conversation, Conversation.id == EmailMessage.conversation_id)
        .where(
            Conversation.lead_id == Lead.id,
            EmailMessage.direction == Direction.OUTBOUND,
            EmailMessage.status != MessageStatus.DRAFT,
        )
        .scalar_subquery()
    )


def _converted() -> ColumnElement[bool]:
    booked = exists().where(Booking.lead_id == Lead.id, Booking.status != BookingStatus.CANCELLED)
    accepted = exists().where(Quote.lead_id == Lead.id, Quote.status == QuoteStatus.ACCEPTED)
    return or_(Lead.status == LeadStatus.WON, booked, accepted)


def _earlier(*, bookings: bool) -> ColumnElement[Any]:
    """The lead's customer's bookings (count) or accepted revenue (sum) before the lead."""
    entity: Any = Booking if bookings else Quote
    owner_lead = aliased(Lead)
    if bookings:
        alive = and_(
            Booking.status != BookingStatus.CANCELLED, Booking.created_at < Lead.created_at
        )
        measure: Any = func.count()
    else:
        alive = and_(Quote.status == QuoteStatus.ACCEPTED, Quote.accepted_at < Lead.created_at)
        measure = func.coalesce(func.sum(Quote.total), 0)
    via_lead = (
        select(measure)
        .select_from(entity)
        .join(owner_lead, owner_lead.id == entity.lead_id)
        .where(owner_lead.customer_id == Lead.customer_id, alive)
        .scalar_subquery()
    )
    direct = (
        select(measure)
        .select_from(entity)
        .outerjoin(owner_lead, owner_lead.id == entity.lead_id)
        .where(entity.customer_id == Lead.customer_id, owner_lead.customer_id.is_(None), alive)
        .scalar_subquery()
    )
    return via_lead + direct


def facts_statement() -> Select[Any]:
    return select(
        Lead.id,
        Lead.source,
        Lead.task_type,
        Lead.size_m2,
        Lead.address,
        Lead.created_at,
        Lead.status,
        first_reply_at().label("first_reply_at"),
        _converted().label("converted"),
        _earlier(bookings=True).label("earlier_bookings"),
        _earlier(bookings=False).label("earlier_revenue"),
    ).order_by(Lead.id)


def lead_facts(
    session: Session, lead_ids: Collection[str] | None = None, *, chunk: int = 2000
) -> Iterator[LeadFacts]:
    """The facts of the given leads, or of every lead (streamed, in id order)."""
    statement = facts_statement()
    if lead_ids is not None:
        ids = sorted(set(lead_ids))
        for start in range(0, len(ids), chunk):
            part = statement.where(Lead.id.in_(ids[start : start + chunk]))
            yield from _read(session, part)
        return
    yield from _read(session, statement.execution_options(yield_per=chunk))


def _read(session: Session, statement: Select[Any]) -> Iterator[LeadFacts]:
    for row in session.execute(statement):
        yield LeadFacts(
            lead_id=row.id,
            source=row.source or "",
            task_type=row.task_type,
            size_m2=row.size_m2,
            address=row.address,
            received_at=row.created_at,
            first_reply_at=_aware(row.first_reply_at),
            earlier_bookings=int(row.earlier_bookings or 0),
            earlier_revenue=Decimal(str(row.earlier_revenue or 0)),
            converted=bool(row.converted),
            closed=row.status in (LeadStatus.WON, LeadStatus.LOST),
        )


def _aware(value: Any) -> datetime | None:
    """A moment from a subquery, as an aware UTC datetime (SQLite may hand back text)."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
