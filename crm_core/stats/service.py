"""Customer figures: total_leads, total_bookings, total_revenue.

Who owns a quote or booking: the customer of its lead when the lead is linked,
otherwise the customer it names directly. Every quote and booking therefore counts
for at most one customer, and relinking a lead moves its business along with it.

- total_leads: leads linked to the customer.
- total_bookings: owned bookings that are not cancelled.
- total_revenue: the sum of owned quotes that are accepted.

The figures are always recomputed from the rows (never incremented), so a
recompute is idempotent and repairs any drift. last_contact_at is not a stat and
is never touched here.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from decimal import Decimal
from functools import cache

from sqlalchemy import ColumnElement, Update, and_, bindparam, func, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from crm_core.errors import NotFoundError
from crm_core.identity import expire_if_loaded
from crm_core.models import Booking, Customer, Lead, Quote
from crm_core.statuses import BookingStatus, QuoteStatus


def _owned_count_or_sum(
    customer_id: ColumnElement[str] | InstrumentedAttribute[str], *, bookings: bool
) -> ColumnElement[Decimal]:
    """Scalar subquery for one customer: owned bookings (count) or accepted quotes (sum).

    Split into "through a linked lead" plus "direct, lead not linked" so each half
    can use the customer_id indexes instead of filtering on a COALESCE.
    """
    entity = Booking if bookings else Quote
    lead = aliased(Lead)
    alive = (
        entity.status != BookingStatus.CANCELLED
        if entity is Booking
        else entity.status == QuoteStatus.ACCEPTED
    )
    measure = func.count() if bookings else func.coalesce(func.sum(Quote.total), 0)
    via_lead = (
        select(measure)
        .select_from(entity)
        .join(lead, lead.id == entity.lead_id)
        .where(lead.customer_id == customer_id, alive)
        .scalar_subquery()
    )
    direct = (
        select(measure)
        .select_from(entity)
        .outerjoin(lead, lead.id == entity.lead_id)
        .where(and_(entity.customer_id == customer_id, lead.customer_id.is_(None)), alive)
        .scalar_subquery()
    )
    return via_lead + direct


def _stat_values(
    customer_id: ColumnElement[str] | InstrumentedAttribute[str],
) -> dict[str, ColumnElement[object]]:
    leads = select(func.count(Lead.id)).where(Lead.customer_id == customer_id).scalar_subquery()
    return {
        "total_leads": leads,
        "total_bookings": _owned_count_or_sum(customer_id, bookings=True),
        "total_revenue": _owned_count_or_sum(customer_id, bookings=False),
    }


_STAT_COLUMNS = ["total_leads", "total_bookings", "total_revenue"]


@cache
def _recompute_statement() -> Update:
    """UPDATE customers whose ids are bound as ``customer_ids``: built once, because
    building its six subqueries cost more than running them."""
    return (
        update(Customer.__table__)  # type: ignore[arg-type]
        .where(Customer.__table__.c.id.in_(bindparam("customer_ids", expanding=True)))
        .values(**_stat_values(Customer.__table__.c.id))
    )


def update_customer_stats(session: Session, customer_id: str) -> Customer:
    """Recompute one customer's figures from its leads, quotes and bookings."""
    if not update_customers_stats(session, [customer_id]):
        raise NotFoundError("customer", customer_id)
    customer = session.execute(
        select(Customer).where(Customer.id == customer_id).execution_options(populate_existing=True)
    ).scalar_one()
    return customer


def owner_of(session: Session, *, lead_id: str | None, customer_id: str | None) -> str | None:
    """The customer whose figures a quote or booking counts for (see module doc)."""
    if lead_id is not None:
        lead_customer = session.execute(select(Lead.customer_id).where(Lead.id == lead_id)).scalar()
        if lead_customer is not None:
            return lead_customer
    return customer_id


def owners_of(session: Session, items: Sequence[tuple[str | None, str | None]]) -> list[str | None]:
    """``owner_of`` for many (lead id, customer id) pairs, in order, with one query."""
    lead_ids = {lead_id for lead_id, _ in items if lead_id is not None}
    lead_customers: dict[str, str | None] = {}
    if lead_ids:
        rows = session.execute(select(Lead.id, Lead.customer_id).where(Lead.id.in_(lead_ids)))
        lead_customers = {lead_id: customer_id for lead_id, customer_id in rows}
    return [
        (lead_customers.get(lead_id) if lead_id is not None else None) or customer_id
        for lead_id, customer_id in items
    ]


def refresh_owner_of(session: Session, *, lead_id: str | None, customer_id: str | None) -> None:
    """Recompute the figures of whoever owns a quote or booking (if anyone)."""
    owner = owner_of(session, lead_id=lead_id, customer_id=customer_id)
    if owner is not None:
        update_customer_stats(session, owner)


def update_customers_stats(session: Session, customer_ids: Collection[str]) -> list[str]:
    """Recompute the figures of many customers; returns the ids that exist.

    The rows are locked first (in id order, so concurrent batches cannot deadlock), then
    the figures computed in a new statement: under READ COMMITTED that statement sees
    everything committed before the locks were granted, so two concurrent recomputes
    can never write a stale count.

    The lock is FOR NO KEY UPDATE, the lock the UPDATE of the figures takes anyway: the
    caller has usually just written a lead, quote or booking that points at the
    customer, and PostgreSQL's foreign-key check then holds FOR KEY SHARE on the
    customer row. FOR UPDATE would wait for the other transactions' KEY SHARE locks
    while they wait for ours (16 concurrent links of one customer deadlocked 13 times);
    NO KEY UPDATE does not conflict with KEY SHARE, only with itself, so the recomputes
    still take turns.
    """
    ids = sorted(set(customer_ids))
    if not ids:
        return []
    session.flush()
    locked = list(
        session.execute(
            select(Customer.id)
            .where(Customer.id.in_(ids))
            .order_by(Customer.id)
            .with_for_update(key_share=True)
        ).scalars()
    )
    session.execute(_recompute_statement(), {"customer_ids": locked})
    for customer_id in locked:
        expire_if_loaded(session, Customer, customer_id, _STAT_COLUMNS)
    return locked
