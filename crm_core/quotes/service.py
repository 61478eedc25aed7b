"""Quotes: draft → sent → accepted or rejected. Accepting one is revenue.

    draft ──send──▶ sent ──accept──▶ accepted
      │               └──reject──▶ rejected
      └──accept / reject (straight from draft)

Accepted and rejected are final: rejecting an accepted quote or accepting a rejected
one is refused. Repeating a step (sending a sent quote) changes nothing. Sending or
accepting a quote moves its lead to quoted; rejecting it moves its lead to lost when
the lead has no other live quote (crm_core.leads.progress).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import Session

from crm_core.errors import ConflictError, NotFoundError, ValidationError
from crm_core.ids import new_id
from crm_core.leads.progress import lead_lost_unless_other_quotes, lead_quoted
from crm_core.models import Customer, Lead, Quote
from crm_core.models.types import utcnow
from crm_core.scoring.service import request_rescore
from crm_core.stats import refresh_owner_of
from crm_core.statuses import QuoteStatus
from crm_core.webhooks.events import emit_quote

_OPEN = (QuoteStatus.DRAFT, QuoteStatus.SENT)

# The column is Numeric(12, 2): ten digits of kroner. PostgreSQL refuses more, SQLite
# would store a float that no longer equals the amount, so both are refused here.
MAX_TOTAL = Decimal("9999999999.99")


def quote_total(total: Decimal | int | float | str) -> Decimal:
    """The amount a quote total stands for, in kr with two decimals; ValidationError
    for anything the Numeric(12,2) column cannot hold."""
    try:
        amount = Decimal(str(total).strip())
    except InvalidOperation:
        raise ValidationError(f"quote total is not a number: {total!r}") from None
    if not amount.is_finite():  # NaN and Infinity cannot be compared or stored
        raise ValidationError(f"quote total is not a number: {total!r}")
    if amount < 0:
        raise ValidationError(f"quote total must be zero or more kr, got {total!r}")
    if amount > MAX_TOTAL:
        raise ValidationError(f"quote total must be at most {MAX_TOTAL} kr, got {total!r}")
    return amount.quantize(Decimal("0.01"))


def create_quote(
    session: Session,
    *,
    total: Decimal | int | float | str,
    lead_id: str | None = None,
    customer_id: str | None = None,
    description: str | None = None,
) -> Quote:
    """Create a draft quote (total in kr) for a lead, a customer, or both."""
    amount = quote_total(total)
    if lead_id is None and customer_id is None:
        raise ValidationError("a quote needs a lead or a customer")
    if lead_id is not None and session.get(Lead, lead_id) is None:
        raise NotFoundError("lead", lead_id)
    if customer_id is not None and session.get(Customer, customer_id) is None:
        raise NotFoundError("customer", customer_id)
    quote = Quote(
        id=new_id(),
        lead_id=lead_id,
        customer_id=customer_id,
        total=amount,
        description=description,
        status=QuoteStatus.DRAFT,
    )
    session.add(quote)
    session.flush()
    return quote


def get_quote(session: Session, quote_id: str) -> Quote:
    quote = session.get(Quote, quote_id)
    if quote is None:
        raise NotFoundError("quote", quote_id)
    return quote


def send_quote(session: Session, quote_id: str, *, at: datetime | None = None) -> Quote:
    quote = get_quote(session, quote_id)
    if quote.status == QuoteStatus.SENT:
        return quote
    if quote.status != QuoteStatus.DRAFT:
        raise ConflictError(f"quote {quote_id} is {quote.status.value} and cannot be sent")
    quote.status = QuoteStatus.SENT
    quote.sent_at = at or utcnow()
    session.flush()
    lead_quoted(session, quote.lead_id)
    emit_quote(session, "quote.sent", quote)
    request_rescore(session)
    return quote


def accept_quote(session: Session, quote_id: str, *, at: datetime | None = None) -> Quote:
    """Accept a draft or sent quote; the owner's revenue grows by its total.

    ``at`` (default now) is when it was accepted, for history recorded afterwards."""
    quote = get_quote(session, quote_id)
    if quote.status == QuoteStatus.ACCEPTED:
        return quote
    if quote.status not in _OPEN:
        raise ConflictError(f"quote {quote_id} is {quote.status.value} and cannot be accepted")
    quote.status = QuoteStatus.ACCEPTED
    quote.accepted_at = at or utcnow()
    session.flush()
    lead_quoted(session, quote.lead_id)
    refresh_owner_of(session, lead_id=quote.lead_id, customer_id=quote.customer_id)
    emit_quote(session, "quote.accepted", quote)
    request_rescore(session)
    return quote


def reject_quote(session: Session, quote_id: str, *, at: datetime | None = None) -> Quote:
    quote = get_quote(session, quote_id)
    if quote.status == QuoteStatus.REJECTED:
        return quote
    if quote.status not in _OPEN:
        raise ConflictError(f"quote {quote_id} is {quote.status.value} and cannot be rejected")
    quote.status = QuoteStatus.REJECTED
    quote.rejected_at = at or utcnow()
    session.flush()
    lead_lost_unless_other_quotes(session, quote.lead_id)
    emit_quote(session, "quote.rejected", quote)
    request_rescore(session)
    return quote
