"""Listing bookings by date, soonest first, with their total count."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from crm_core.errors import ValidationError
from crm_core.models import Booking
from crm_core.paging import DEFAULT_LIMIT, checked_limit
from crm_core.statuses import BookingStatus, parse_status

S = TypeVar("S", bound=Select[Any])


def _filtered(
    statement: S,
    start: datetime | None,
    end: datetime | None,
    status: str | BookingStatus | None,
) -> S:
    if start is not None and end is not None and end < start:
        raise ValidationError("the end of the period is before its start")
    if start is not None:
        statement = statement.where(Booking.scheduled_at >= start)
    if end is not None:
        statement = statement.where(Booking.scheduled_at < end)
    if status is not None:
        statement = statement.where(Booking.status == parse_status(BookingStatus, status))
    return statement


def list_bookings(
    session: Session,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    status: str | BookingStatus | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[Booking]:
    """Bookings scheduled in [start, end), soonest first."""
    statement = _filtered(select(Booking), start, end, status)
    statement = statement.order_by(Booking.scheduled_at, Booking.id).limit(checked_limit(limit))
    return list(session.execute(statement).scalars())


def count_bookings(
    session: Session,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    status: str | BookingStatus | None = None,
) -> int:
    statement = _filtered(select(func.count()).select_from(Booking), start, end, status)
    return int(session.execute(statement).scalar_one())
