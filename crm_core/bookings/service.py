"""Bookings: scheduled jobs. Creating or cancelling one changes the owner's figures.

    scheduled ──complete──▶ completed
        └──────cancel─────▶ cancelled

Completed and cancelled are final: cancelling a completed booking or completing a
cancelled one is refused; repeating a step changes nothing. A quote gets one booking
that is not cancelled, unless a second is asked for (``allow_second``), and a
rejected quote none. Booking a lead, or a quote of a lead, wins the lead.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.errors import ConflictError, NotFoundError, ValidationError
from crm_core.ids import new_id
from crm_core.leads.progress import lead_won
from crm_core.models import Booking, Customer, Lead
from crm_core.models.types import utcnow
from crm_core.quotes.service import get_quote
from crm_core.scoring.service import request_rescore
from crm_core.stats import refresh_owner_of
from crm_core.statuses import BookingStatus, QuoteStatus
from crm_core.webhooks.events import emit_booking

# A job is booked for a real day: years far outside this are typing errors, and
# the first and last days of the calendar cannot even be shown in local time.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)


def _checked_time(scheduled_at: datetime) -> datetime:
    if scheduled_at.tzinfo is None:
        raise ValidationError("scheduled_at must carry a time zone")
    try:
        moment = scheduled_at.astimezone(UTC)
    except OverflowError:
        moment = None
    if moment is None or not EARLIEST <= moment <= LATEST:
        raise ValidationError(
            f"a booking must be between {EARLIEST.year} and {LATEST.year}, "
            f"got {scheduled_at.replace(tzinfo=None).isoformat(' ', 'minutes')}"
        )
    return scheduled_at


def create_booking(
    session: Session,
    *,
    scheduled_at: datetime,
    customer_id: str | None = None,
    lead_id: str | None = None,
    quote_id: str | None = None,
    notes: str | None = None,
    allow_second: bool = False,
    booked_at: datetime | None = None,
) -> Booking:
    """Book a job. With a quote, its lead and customer are used when not given.

    ``booked_at`` (default now) is when it was booked, for history recorded afterwards.

    A quote that has a booking (not cancelled) already is refused unless
    ``allow_second``; the quote row is locked, so two at once cannot both pass.
    """
    scheduled_at = _checked_time(scheduled_at)
    if quote_id is not None:
        quote = get_quote(session, quote_id)
        if quote.status == QuoteStatus.REJECTED:
            raise ConflictError(f"quote {quote_id} was rejected; it cannot be booked")
        session.refresh(quote, with_for_update=True)
        booked = _live_booking_of(session, quote_id)
        if booked is not None and not allow_second:
            raise ConflictError(
                f"quote {quote_id} is booked already (booking {booked}); "
                "cancel that booking, or book a second one on purpose (--allow-second)"
            )
        if lead_id is not None and quote.lead_id is not None and lead_id != quote.lead_id:
            raise ValidationError(
                f"quote {quote_id} belongs to lead {quote.lead_id}, not {lead_id}"
            )
        lead_id = lead_id or quote.lead_id
        customer_id = customer_id or quote.customer_id
    if lead_id is None and customer_id is None:
        raise ValidationError("a booking needs a customer, a lead or a quote")
    if lead_id is not None and session.get(Lead, lead_id) is None:
        raise NotFoundError("lead", lead_id)
    if customer_id is not None and session.get(Customer, customer_id) is None:
        raise NotFoundError("customer", customer_id)
    booking = Booking(
        id=new_id(),
        customer_id=customer_id,
        lead_id=lead_id,
        quote_id=quote_id,
        scheduled_at=scheduled_at,
        notes=notes,
        status=BookingStatus.SCHEDULED,
        **({"created_at": booked_at, "updated_at": booked_at} if booked_at else {}),
    )
    session.add(booking)
    session.flush()
    lead_won(session, booking.lead_id)
    refresh_owner_of(session, lead_id=booking.lead_id, customer_id=booking.customer_id)
    emit_booking(session, "booking.created", booking)
    request_rescore(session)
    return booking


def _live_booking_of(session: Session, quote_id: str) -> str | None:
    return session.execute(
        select(Booking.id)
        .where(Booking.quote_id == quote_id, Booking.status != BookingStatus.CANCELLED)
        .limit(1)
    ).scalar()


def get_booking(session: Session, booking_id: str) -> Booking:
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise NotFoundError("booking", booking_id)
    return booking


def cancel_booking(session: Session, booking_id: str) -> Booking:
    """Cancel a booking; it no longer counts. Cancelling twice changes nothing."""
    booking = get_booking(session, booking_id)
    if booking.status == BookingStatus.CANCELLED:
        return booking
    if booking.status == BookingStatus.COMPLETED:
        raise ConflictError(f"booking {booking_id} is completed and cannot be cancelled")
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = utcnow()
    session.flush()
    refresh_owner_of(session, lead_id=booking.lead_id, customer_id=booking.customer_id)
    emit_booking(session, "booking.cancelled", booking)
    request_rescore(session)
    return booking


def complete_booking(session: Session, booking_id: str) -> Booking:
    booking = get_booking(session, booking_id)
    if booking.status == BookingStatus.CANCELLED:
        raise ConflictError(f"booking {booking_id} is cancelled and cannot be completed")
    if booking.status == BookingStatus.COMPLETED:
        return booking
    booking.status = BookingStatus.COMPLETED
    session.flush()
    emit_booking(session, "booking.completed", booking)
    request_rescore(session)
    return booking
