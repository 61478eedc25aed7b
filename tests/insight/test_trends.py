"""``monthly_trends`` on crafted data across months, on PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from crm_core import services
from crm_core.analytics import monthly_trends
from crm_core.errors import ValidationError
from crm_core.statuses import Direction

NOW = datetime(2025, 11, 20, 12, 0, tzinfo=UTC)


def _lead_with_reply(session: Session, source: str, received: datetime, wait: timedelta | None):
    lead = services.create_lead(session, source=source, name="Kunde", created_at=received)
    if wait is not None:
        conversation = services.create_conversation(session, lead_id=lead.id, subject="Tilbud")
        services.create_email_message(
            session,
            conversation_id=conversation.id,
            from_address="info@rendetalje.dk",
            to_address="kunde@example.com",
            body="Tak for din henvendelse",
            direction=Direction.OUTBOUND,
            sent_at=received + wait,
        )
    return lead


def test_trends_count_each_event_in_its_month(session: Session) -> None:
    sep = datetime(2025, 9, 10, 8, 0, tzinfo=UTC)
    a = _lead_with_reply(session, "rengoring.nu", sep, timedelta(minutes=30))
    _lead_with_reply(session, "Rengoring.nu", sep + timedelta(days=1), timedelta(hours=2))
    _lead_with_reply(session, "website", sep + timedelta(days=2), timedelta(hours=10))
    # Months are Copenhagen's: 22:30 UTC on 31 October is 23:30 there (October); 23:30 UTC
    # is 00:30 on 1 November there (November), though still October in UTC.
    b = _lead_with_reply(session, "leadpoint", datetime(2025, 10, 31, 22, 30, tzinfo=UTC), None)
    _lead_with_reply(session, "website", datetime(2025, 10, 31, 23, 30, tzinfo=UTC), None)
    # Summer time: 22:30 UTC on 31 August is 00:30 on 1 September in Copenhagen.
    _lead_with_reply(session, "website", datetime(2025, 8, 31, 22, 30, tzinfo=UTC), None)
    _lead_with_reply(session, "website", datetime(2025, 8, 1, tzinfo=UTC), None)  # too old

    quote = services.create_quote(session, total="3000", lead_id=a.id)
    services.send_quote(session, quote.id, at=sep + timedelta(days=3))
    services.accept_quote(session, quote.id, at=datetime(2025, 10, 2, tzinfo=UTC))
    services.create_booking(
        session,
        quote_id=quote.id,
        scheduled_at=datetime(2025, 11, 5, 8, tzinfo=UTC),
        booked_at=datetime(2025, 10, 2, 1, tzinfo=UTC),
    )
    second = services.create_quote(session, total="1250.50", lead_id=b.id)
    services.send_quote(session, second.id, at=datetime(2025, 11, 1, tzinfo=UTC))
    services.accept_quote(session, second.id, at=datetime(2025, 11, 3, tzinfo=UTC))
    rejected = services.create_quote(session, total="999", lead_id=b.id)
    services.send_quote(session, rejected.id, at=datetime(2025, 11, 2, tzinfo=UTC))
    services.reject_quote(session, rejected.id, at=datetime(2025, 11, 4, tzinfo=UTC))
    session.commit()

    september, october, november = monthly_trends(session, 3, now=NOW)
    assert [september.month, october.month, november.month] == ["2025-09", "2025-10", "2025-11"]
    assert september.leads_by_source == {"rengoring.nu": 2, "website": 2}
    assert september.median_first_reply == timedelta(hours=2)
    assert (september.quotes_sent, september.quotes_accepted, september.bookings) == (1, 0, 0)
    assert october.leads_by_source == {"leadpoint": 1}
    assert (october.median_first_reply, october.unanswered) == (None, 1)
    assert (october.quotes_accepted, october.bookings, october.revenue) == (
        1,
        1,
        Decimal("3000.00"),
    )
    assert november.leads_by_source == {"website": 1}
    assert (november.quotes_sent, november.quotes_accepted) == (2, 1)
    assert november.revenue == Decimal("1250.50")


def test_trends_cover_empty_months_and_refuse_silly_windows(session: Session) -> None:
    rows = monthly_trends(session, 14, now=NOW)
    assert [row.month for row in rows][:3] == ["2024-10", "2024-11", "2024-12"]
    assert rows[-1].month == "2025-11" and len(rows) == 14
    assert all(row.leads == 0 and row.revenue == 0 for row in rows)
    with pytest.raises(ValidationError):
        monthly_trends(session, 0, now=NOW)


def test_months_follow_the_time_zone_asked_for(session: Session) -> None:
    services.create_lead(
        session,
        source="website",
        name="Kunde",
        created_at=datetime(2025, 10, 31, 23, 30, tzinfo=UTC),
    )
    session.commit()
    october, november = monthly_trends(session, 2, now=NOW)  # Copenhagen: 00:30 on 1 Nov
    assert (october.leads, november.leads) == (0, 1)
    october, november = monthly_trends(session, 2, now=NOW, zone=UTC)
    assert (october.leads, november.leads) == (1, 0)
