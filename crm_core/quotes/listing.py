"""Listing quotes, newest first, with their total count."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from crm_core.models import Lead, Quote
from crm_core.paging import DEFAULT_LIMIT, checked_limit
from crm_core.statuses import QuoteStatus, parse_status

S = TypeVar("S", bound=Select[Any])


def _filtered(
    statement: S,
    status: str | QuoteStatus | None,
    customer_id: str | None,
    lead_id: str | None = None,
) -> S:
    if lead_id is not None:
        statement = statement.where(Quote.lead_id == lead_id)
    if status is not None:
        statement = statement.where(Quote.status == parse_status(QuoteStatus, status))
    if customer_id is not None:
        # The customer's own quotes and those of its leads (the stats' owner rule).
        of_leads = select(Lead.id).where(Lead.customer_id == customer_id)
        statement = statement.where(
            or_(Quote.customer_id == customer_id, Quote.lead_id.in_(of_leads))
        )
    return statement


def list_quotes(
    session: Session,
    *,
    status: str | QuoteStatus | None = None,
    customer_id: str | None = None,
    lead_id: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[Quote]:
    statement = _filtered(select(Quote), status, customer_id, lead_id)
    statement = statement.order_by(Quote.created_at.desc(), Quote.id).limit(checked_limit(limit))
    return list(session.execute(statement).scalars())


def count_quotes(
    session: Session, *, status: str | QuoteStatus | None = None, customer_id: str | None = None
) -> int:
    statement = _filtered(select(func.count()).select_from(Quote), status, customer_id)
    return int(session.execute(statement).scalar_one())
