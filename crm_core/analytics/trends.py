"""Month by month: leads by source, quotes sent and accepted, bookings, revenue and the
median time to our first reply. The report behind ``crm report trends``.

Months are calendar months in the company's time zone (``[display] time_zone``,
Europe/Copenhagen): a lead that came at 00:30 on 1 November in Copenhagen is
November's, though it is still 31 October in UTC. Their boundaries are computed here
as UTC instants (daylight saving included) and each row is put in its month by a
CASE over them, which both databases evaluate the same way; each figure is then one
GROUP BY over the rows of the window, never a scan in Python. Each event counts in
the month it happened: a lead when its email came, a quote when it was sent or
accepted, a booking when it was made, revenue when its quote was accepted. The median
reply time is taken in Python from the leads of the window (medians have no portable
SQL aggregate), and counts leads we answered; unanswered leads are counted beside it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from crm_core.errors import ValidationError
from crm_core.models import Booking, Lead, Quote
from crm_core.models.types import utcnow
from crm_core.scoring.facts import first_reply_at
from crm_core.statuses import BookingStatus, QuoteStatus

MAX_MONTHS = 120
COMPANY_ZONE = ZoneInfo("Europe/Copenhagen")


@dataclass(frozen=True)
class Window:
    """The months of a report: their keys, oldest first, and where each starts (UTC);
    ``end`` is where the last one ends."""

    keys: list[str]
    starts: list[datetime]
    end: datetime

    def month_of(self, column: Any) -> ColumnElement[Any]:
        """The "YYYY-MM" of ``column`` in the window, NULL outside it."""
        ends = [*self.starts[1:], self.end]
        return case(
            *((column < bound, key) for key, bound in zip(self.keys, ends, strict=True)),
            else_=None,
        )

    def holds(self, column: Any) -> ColumnElement[bool]:
        return and_(column >= self.starts[0], column < self.end)


def month_window(months: int, now: datetime, zone: tzinfo = COMPANY_ZONE) -> Window:
    """The last ``months`` calendar months (in ``zone``) up to and including ``now``'s."""
    local = now.astimezone(zone)
    year, month = local.year, local.month
    firsts: list[tuple[int, int]] = []
    for _ in range(months + 1):
        firsts.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    firsts.reverse()  # the month before the window, then the window's months
    year, month = firsts[-1]
    following = (year + 1, 1) if month == 12 else (year, month + 1)

    def start(year_month: tuple[int, int]) -> datetime:
        return datetime(year_month[0], year_month[1], 1, tzinfo=zone).astimezone(UTC)

    window = firsts[1:]
    return Window(
        keys=[f"{y:04d}-{m:02d}" for y, m in window],
        starts=[start(ym) for ym in window],
        end=start(following),
    )


@dataclass
class MonthTrend:
    month: str  # "2025-10"
    leads_by_source: dict[str, int] = field(default_factory=dict)
    quotes_sent: int = 0
    quotes_accepted: int = 0
    bookings: int = 0
    revenue: Decimal = Decimal("0.00")
    median_first_reply: timedelta | None = None
    unanswered: int = 0  # leads of the month with no reply (yet)

    @property
    def leads(self) -> int:
        return sum(self.leads_by_source.values())


def _grouped(
    session: Session, window: Window, column: Any, *where: ColumnElement[bool]
) -> dict[str, int]:
    month = select(window.month_of(column).label("month")).where(window.holds(column), *where)
    inner = month.subquery()
    statement = select(inner.c.month, func.count()).group_by(inner.c.month)
    return {key: int(count) for key, count in session.execute(statement)}


def monthly_trends(
    session: Session, months: int = 12, now: datetime | None = None, zone: tzinfo = COMPANY_ZONE
) -> list[MonthTrend]:
    """One row per month, oldest first, for the last ``months`` months (1–120) in ``zone``."""
    if not 1 <= months <= MAX_MONTHS:
        raise ValidationError(f"months must be between 1 and {MAX_MONTHS}, got {months}")
    window = month_window(months, now or utcnow(), zone)
    rows = {key: MonthTrend(key) for key in window.keys}

    leads = select(
        window.month_of(Lead.created_at).label("month"), func.lower(Lead.source).label("source")
    ).where(window.holds(Lead.created_at))
    by_source = leads.subquery()
    for month, source, count in session.execute(
        select(by_source.c.month, by_source.c.source, func.count()).group_by(
            by_source.c.month, by_source.c.source
        )
    ):
        rows[month].leads_by_source[source or "unknown"] = int(count)

    sent = _grouped(session, window, Quote.sent_at)
    accepted = _grouped(session, window, Quote.accepted_at, Quote.status == QuoteStatus.ACCEPTED)
    booked = _grouped(
        session, window, Booking.created_at, Booking.status != BookingStatus.CANCELLED
    )
    takings = (
        select(window.month_of(Quote.accepted_at).label("month"), Quote.total)
        .where(window.holds(Quote.accepted_at), Quote.status == QuoteStatus.ACCEPTED)
        .subquery()
    )
    revenue = dict(
        session.execute(
            select(takings.c.month, func.sum(takings.c.total)).group_by(takings.c.month)
        ).all()
    )
    for key, row in rows.items():
        row.quotes_sent = sent.get(key, 0)
        row.quotes_accepted = accepted.get(key, 0)
        row.bookings = booked.get(key, 0)
        row.revenue = Decimal(str(revenue.get(key) or 0)).quantize(Decimal("0.01"))

    waits: dict[str, list[timedelta]] = defaultdict(list)
    for month, received, replied in session.execute(_first_replies(window)):
        if replied is None:
            rows[month].unanswered += 1
        else:
            waits[month].append(_aware(replied) - _aware(received))
    for key, values in waits.items():
        rows[key].median_first_reply = _median(values)
    return [rows[key] for key in window.keys]


def _first_replies(window: Window) -> Any:
    return select(window.month_of(Lead.created_at), Lead.created_at, first_reply_at()).where(
        window.holds(Lead.created_at)
    )


def _median(values: list[timedelta]) -> timedelta:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _aware(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
