"""The services refuse values the database cannot hold or show, whoever calls them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_core import services
from crm_core.errors import ValidationError
from crm_core.models import Booking, Quote

BAD_TOTALS = ["NaN", "sNaN", "Infinity", Decimal("-Infinity"), float("nan"), "1e10", "-0.01"]
BAD_MOMENTS = [
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),  # year 0 in UTC
    datetime(1899, 12, 31, 23, 59, tzinfo=UTC),
    datetime(3000, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-14))),  # year 10000
]
BAD_PHONES = ["abc", "1", "+45 1234", "+999 12345678"]
BAD_LIMITS = [0, -1, 1_000_001, 2**64]


def test_quote_totals_outside_numeric_12_2_are_refused(session: Session) -> None:
    customer = services.create_customer(session, name="Mette")
    for total in BAD_TOTALS:
        with pytest.raises(ValidationError):
            services.create_quote(session, total=total, customer_id=customer.id)  # type: ignore[arg-type]
    assert session.execute(select(func.count()).select_from(Quote)).scalar_one() == 0

    largest = services.create_quote(session, total="9999999999.99", customer_id=customer.id)
    session.commit()
    session.expire_all()
    assert session.get(Quote, largest.id).total == Decimal("9999999999.99")  # type: ignore[union-attr]


def test_bookings_outside_1900_to_2999_are_refused(session: Session) -> None:
    customer = services.create_customer(session, name="Mette")
    for moment in BAD_MOMENTS:
        with pytest.raises(ValidationError, match="between 1900 and 2999"):
            services.create_booking(session, scheduled_at=moment, customer_id=customer.id)
    assert session.execute(select(func.count()).select_from(Booking)).scalar_one() == 0


def test_impossible_phone_numbers_are_refused(session: Session) -> None:
    customer = services.create_customer(session, name="Ole", phone="+45 12 34 56 78")
    for phone in BAD_PHONES:
        with pytest.raises(ValidationError, match="invalid phone number"):
            services.create_customer(session, name="Mette", phone=phone)
        with pytest.raises(ValidationError, match="invalid phone number"):
            services.update_customer(session, customer.id, phone=phone)


def test_list_limits_are_bounded(session: Session) -> None:
    for limit in BAD_LIMITS:
        with pytest.raises(ValidationError, match="limit must be between"):
            services.query_customers(session, limit=limit)
        with pytest.raises(ValidationError, match="limit must be between"):
            services.top_customers_by_revenue(session, limit=limit)
